locals {
  # The zips are named after Node's process.arch (x64), Lambda's architectures after the ISA (x86_64).
  zip_architecture = { arm64 = "arm64", x86_64 = "x64" }[var.architecture]

  zip_paths = { for function in keys(var.functions) : function => "${var.artifacts_dir}/${function}-${local.zip_architecture}.zip" }

  # The environment configFromEnv() reads (packages/pipeline/src/config.ts).
  environment = merge(
    {
      IMGFLOW_OUTPUT_BUCKET     = var.output_bucket_name
      IMGFLOW_OUTPUT_PREFIX     = var.output_prefix
      IMGFLOW_WORK_PREFIX       = var.work_prefix
      IMGFLOW_ASSETS_PREFIX     = var.assets_prefix
      IMGFLOW_JOBS_TABLE        = var.jobs_table_name
      IMGFLOW_SUCCESS_TOPIC_ARN = var.success_topic_arn
      IMGFLOW_ERROR_TOPIC_ARN   = var.error_topic_arn
      IMGFLOW_LIMITS            = var.limits_json
      IMGFLOW_LEASE_SECONDS     = tostring(var.lease_seconds)
      IMGFLOW_CACHE_CONTROL     = var.cache_control
    },
    var.recipe_json == null ? {} : { IMGFLOW_RECIPE = var.recipe_json },
  )

  upload_objects    = "${var.upload_bucket_arn}/*"
  output_renditions = "${var.output_bucket_arn}/${var.output_prefix}*"
  output_work       = "${var.output_bucket_arn}/${var.work_prefix}*"
  output_assets     = "${var.output_bucket_arn}/${var.assets_prefix}*"
  content_index_arn = "${var.jobs_table_arn}/index/byContent"
  tracing_is_active = var.tracing_mode == "Active"

  function_policies = {
    validate = data.aws_iam_policy_document.validate.json
    resize   = data.aws_iam_policy_document.resize.json
    filter   = data.aws_iam_policy_document.filter.json
    optimize = data.aws_iam_policy_document.optimize.json
    notify   = data.aws_iam_policy_document.notify.json
  }
}
