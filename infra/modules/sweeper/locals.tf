locals {
  # The sweeper's defaults (memory, timeout, schedule) and the IMGFLOW_* defaults, from the workflow contract.
  contract        = jsondecode(file("${path.module}/../workflow/contract.json"))
  function_key    = local.contract.sweeper.function
  function_name   = "${var.name}-${local.function_key}"
  memory_size     = coalesce(var.memory_size, local.contract.sweeper.memory_mb)
  timeout         = coalesce(var.timeout, local.contract.sweeper.timeout_seconds)
  schedule        = coalesce(var.schedule_expression, local.contract.sweeper.schedule)
  config_defaults = local.contract.config
  output_prefix   = coalesce(var.output_prefix, local.config_defaults.output_prefix)
  work_prefix     = coalesce(var.work_prefix, local.config_defaults.work_prefix)
  assets_prefix   = coalesce(var.assets_prefix, local.config_defaults.assets_prefix)
  lease_seconds   = coalesce(var.lease_seconds, local.config_defaults.lease_seconds)

  # The zips are named after Node's process.arch (x64), Lambda's architectures after the ISA (x86_64).
  zip_architecture = { arm64 = "arm64", x86_64 = "x64" }[var.architecture]
  zip_path         = "${var.artifacts_dir}/${local.function_key}-${local.zip_architecture}.zip"

  # What configFromEnv() reads (packages/pipeline/src/config.ts); the sweeper needs no recipe or limits.
  environment = {
    IMGFLOW_OUTPUT_BUCKET     = var.output_bucket_name
    IMGFLOW_OUTPUT_PREFIX     = local.output_prefix
    IMGFLOW_WORK_PREFIX       = local.work_prefix
    IMGFLOW_ASSETS_PREFIX     = local.assets_prefix
    IMGFLOW_JOBS_TABLE        = var.jobs_table_name
    IMGFLOW_SUCCESS_TOPIC_ARN = var.success_topic_arn
    IMGFLOW_ERROR_TOPIC_ARN   = var.error_topic_arn
    IMGFLOW_LEASE_SECONDS     = tostring(local.lease_seconds)
  }

  output_work       = "${var.output_bucket_arn}/${local.work_prefix}*"
  tracing_is_active = var.tracing_mode == "Active"

  role_name = "${var.name}-${local.function_key}-${data.aws_region.current.name}"
  role_arn  = var.create_role ? aws_iam_role.this[0].arn : var.existing_role_arn

  # The namespace of the sweeper's own metrics (SweepErrors).
  metric_namespace = "imgflow/${var.name}"
}
