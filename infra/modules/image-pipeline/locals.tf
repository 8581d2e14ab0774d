locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  # Bucket names are global: the account and region make them unique without a random suffix.
  upload_bucket_name = "${var.name}-uploads-${local.account_id}-${local.region}"
  output_bucket_name = "${var.name}-outputs-${local.account_id}-${local.region}"

  output_prefix = "renditions/"
  work_prefix   = "work/"
  assets_prefix = "assets/"

  # Sized for the default recipe on a 24-megapixel upload; AVIF encoding dominates optimize.
  default_functions = {
    validate = { memory_size = 512, timeout = 30 }
    resize   = { memory_size = 1769, timeout = 120 }
    filter   = { memory_size = 1769, timeout = 120 }
    optimize = { memory_size = 2048, timeout = 300 }
    notify   = { memory_size = 256, timeout = 30 }
  }

  functions = {
    for step, defaults in local.default_functions : step => {
      memory_size          = coalesce(try(var.functions[step].memory_size, null), defaults.memory_size)
      timeout              = coalesce(try(var.functions[step].timeout, null), defaults.timeout)
      reserved_concurrency = try(var.functions[step].reserved_concurrency, null)
      environment          = try(var.functions[step].environment, {})
    }
  }

  tracing_mode = var.tracing_enabled ? "Active" : "PassThrough"
}
