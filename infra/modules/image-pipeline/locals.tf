locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  # Bucket names are global: the account and region make them unique without a random suffix.
  # An existing upload bucket must be named (the storage module says so when it is not).
  upload_bucket_name = var.create_upload_bucket ? coalesce(var.upload_bucket_name, "${var.name}-uploads-${local.account_id}-${local.region}") : var.upload_bucket_name
  output_bucket_name = "${var.name}-outputs-${local.account_id}-${local.region}"

  # The keys of extra_policy_statements and existing_role_arns that go to the functions module
  # (the others are "workflow" and "trigger").
  function_steps = keys(local.default_functions)

  # The workflow contract (beside the ASL template) holds each step's default memory and timeout,
  # sized for the default recipe on a 24-megapixel upload (AVIF encoding dominates optimize).
  contract = jsondecode(file("${path.module}/../workflow/contract.json"))

  default_functions = {
    for step, definition in local.contract.steps : step => { memory_size = definition.memory_mb, timeout = definition.timeout_seconds }
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
