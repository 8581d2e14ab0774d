locals {
  # The zips are named after Node's process.arch (x64), Lambda's architectures after the ISA (x86_64).
  zip_architecture = { arm64 = "arm64", x86_64 = "x64" }[var.architecture]

  zip_paths = { for function in keys(var.functions) : function => "${var.artifacts_dir}/${function}-${local.zip_architecture}.zip" }

  # The environment configFromEnv() reads (packages/pipeline/src/config.ts).
  environment = merge(
    {
      IMGFLOW_OUTPUT_BUCKET     = var.output_bucket_name
      IMGFLOW_OUTPUT_PREFIX     = local.output_prefix
      IMGFLOW_WORK_PREFIX       = local.work_prefix
      IMGFLOW_ASSETS_PREFIX     = local.assets_prefix
      IMGFLOW_JOBS_TABLE        = var.jobs_table_name
      IMGFLOW_SUCCESS_TOPIC_ARN = var.success_topic_arn
      IMGFLOW_ERROR_TOPIC_ARN   = var.error_topic_arn
      IMGFLOW_LIMITS            = var.limits_json
      IMGFLOW_LEASE_SECONDS     = tostring(local.lease_seconds)
      IMGFLOW_CACHE_CONTROL     = local.cache_control
    },
    # Compact JSON: a pretty-printed recipe takes no more of the 4 KB environment than a minified one.
    var.recipe_json == null ? {} : { IMGFLOW_RECIPE = jsonencode(jsondecode(var.recipe_json)) },
  )

  # Lambda refuses a function whose environment (names and values) exceeds 4 KB. The recipe and
  # the limits are known at plan time, the ARNs and names often are not: the plan-time check
  # gives the JSON settings what the contract leaves after reserving room for the rest.
  contract             = jsondecode(file("${path.module}/../workflow/contract.json"))
  environment_max      = local.contract.lambda.environment_max_bytes
  json_settings_budget = local.contract.lambda.environment_max_bytes - local.contract.lambda.environment_reserved_bytes
  json_settings_bytes  = length("IMGFLOW_LIMITS") + length(var.limits_json) + (var.recipe_json == null ? 0 : length("IMGFLOW_RECIPE") + length(jsonencode(jsondecode(var.recipe_json))))

  upload_objects    = "${var.upload_bucket_arn}/${var.upload_key_prefix}*"
  output_renditions = "${var.output_bucket_arn}/${local.output_prefix}*"
  output_work       = "${var.output_bucket_arn}/${local.work_prefix}*"
  output_assets     = "${var.output_bucket_arn}/${local.assets_prefix}*"
  # s3:prefix patterns of the keys each function may list: those it reads (see the ListBucket statements).
  upload_keys       = "${var.upload_key_prefix}*"
  rendition_keys    = "${local.output_prefix}*"
  asset_keys        = "${local.assets_prefix}*"
  tracing_is_active = var.tracing_mode == "Active"

  # Every prefix that another prefix starts with (equal prefixes overlap both ways).
  prefixes = {
    output_prefix = local.output_prefix
    work_prefix   = local.work_prefix
    assets_prefix = local.assets_prefix
  }
  overlapping_prefixes = sort([
    for input, prefix in local.prefixes : input
    if anytrue([for other, other_prefix in local.prefixes : other != input && startswith(other_prefix, prefix)])
  ])

  # A function listed in existing_role_arns runs with that role; the others get one created here.
  created_roles = { for function, settings in var.functions : function => settings if !contains(keys(var.existing_role_arns), function) }
  role_names    = { for function in keys(var.functions) : function => "${var.name}-${function}-${data.aws_region.current.name}" }
  role_arns     = merge({ for function, role in aws_iam_role.this : function => role.arn }, var.existing_role_arns)

  function_policies = {
    validate = data.aws_iam_policy_document.validate.json
    resize   = data.aws_iam_policy_document.resize.json
    filter   = data.aws_iam_policy_document.filter.json
    optimize = data.aws_iam_policy_document.optimize.json
    notify   = data.aws_iam_policy_document.notify.json
  }
}

locals {
  # Unset settings take the workflow contract's defaults (the same the functions' configFromEnv() uses).
  config_defaults = local.contract.config
  output_prefix   = coalesce(var.output_prefix, local.config_defaults.output_prefix)
  work_prefix     = coalesce(var.work_prefix, local.config_defaults.work_prefix)
  assets_prefix   = coalesce(var.assets_prefix, local.config_defaults.assets_prefix)
  lease_seconds   = coalesce(var.lease_seconds, local.config_defaults.lease_seconds)
  cache_control   = coalesce(var.cache_control, local.config_defaults.cache_control)
}
