data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

module "storage" {
  source = "../storage"

  upload_bucket_name                = local.upload_bucket_name
  create_upload_bucket              = var.create_upload_bucket
  manage_upload_bucket_notification = var.manage_upload_bucket_notification
  output_bucket_name                = local.output_bucket_name
  kms_key_arn                       = var.kms_key_arn
  work_prefix                       = var.work_prefix
  force_destroy                     = var.force_destroy

  tags = var.tags
}

module "ledger" {
  source = "../ledger"

  name                        = "${var.name}-jobs"
  kms_key_arn                 = var.kms_key_arn
  deletion_protection_enabled = var.deletion_protection

  tags = var.tags
}

module "notifications" {
  source = "../notifications"

  name              = var.name
  kms_master_key_id = coalesce(var.kms_key_arn, "alias/aws/sns")
  subscriptions     = var.subscriptions

  tags = var.tags
}

module "functions" {
  source = "../functions"

  name          = var.name
  functions     = local.functions
  artifacts_dir = var.artifacts_dir
  architecture  = var.architecture

  upload_bucket_arn  = module.storage.upload_bucket_arn
  upload_key_prefix  = var.key_prefix
  output_bucket_name = module.storage.output_bucket_name
  output_bucket_arn  = module.storage.output_bucket_arn
  output_prefix      = var.output_prefix
  work_prefix        = var.work_prefix
  assets_prefix      = var.assets_prefix
  jobs_table_name    = module.ledger.table_name
  jobs_table_arn     = module.ledger.table_arn
  success_topic_arn  = module.notifications.success_topic_arn
  error_topic_arn    = module.notifications.error_topic_arn
  recipe_json        = var.recipe_json
  limits_json        = var.limits_json

  log_retention_days = var.log_retention_days
  tracing_mode       = local.tracing_mode
  kms_key_arn        = var.kms_key_arn

  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  extra_policy_statements   = { for step, statements in var.extra_policy_statements : step => statements if contains(local.function_steps, step) }
  existing_role_arns        = { for step, arn in var.existing_role_arns : step => arn if contains(local.function_steps, step) }

  tags = var.tags
}

module "workflow" {
  source = "../workflow"

  name                   = var.name
  type                   = var.workflow_type
  function_arns          = module.functions.function_arns
  function_timeouts      = { for step, settings in local.functions : step => settings.timeout }
  retry                  = var.retry
  log_level              = var.workflow_log_level
  include_execution_data = var.include_execution_data
  log_retention_days     = var.log_retention_days
  tracing_enabled        = var.tracing_enabled

  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  extra_policy_statements   = lookup(var.extra_policy_statements, "workflow", [])
  create_role               = !contains(keys(var.existing_role_arns), "workflow")
  existing_role_arn         = lookup(var.existing_role_arns, "workflow", null)

  tags = var.tags
}

module "trigger" {
  source = "../trigger"

  name               = "${var.name}-upload"
  upload_bucket_name = module.storage.upload_bucket_name
  state_machine_arn  = module.workflow.state_machine_arn
  key_prefix         = var.key_prefix
  key_suffixes       = var.key_suffixes

  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  extra_policy_statements   = lookup(var.extra_policy_statements, "trigger", [])
  create_role               = !contains(keys(var.existing_role_arns), "trigger")
  existing_role_arn         = lookup(var.existing_role_arns, "trigger", null)

  tags = var.tags
}

module "alarms" {
  source = "../alarms"

  name                   = var.name
  state_machine_arn      = module.workflow.state_machine_arn
  dead_letter_queue_name = module.trigger.dead_letter_queue_name
  function_names         = module.functions.function_names
  alarm_topic_arn        = var.alarm_topic_arn
  sweeper = var.sweeper_enabled ? {
    function_name          = module.sweeper[0].function_name
    dead_letter_queue_name = module.sweeper[0].dead_letter_queue_name
    error_metric           = module.sweeper[0].error_metric
  } : null

  tags = var.tags
}

# Ends the jobs whose execution died without recording an outcome (Express's 5-minute limit
# skips NotifyError), and sends missed notifications. Outside the workflow: nothing in the ASL
# knows about it.
module "sweeper" {
  source = "../sweeper"
  count  = var.sweeper_enabled ? 1 : 0

  name                = var.name
  artifacts_dir       = var.artifacts_dir
  architecture        = var.architecture
  schedule_expression = var.sweeper_schedule_expression

  output_bucket_name = module.storage.output_bucket_name
  output_bucket_arn  = module.storage.output_bucket_arn
  output_prefix      = var.output_prefix
  work_prefix        = var.work_prefix
  assets_prefix      = var.assets_prefix
  jobs_table_name    = module.ledger.table_name
  jobs_table_arn     = module.ledger.table_arn
  status_index_arn   = module.ledger.index_arns["byStatus"]
  success_topic_arn  = module.notifications.success_topic_arn
  error_topic_arn    = module.notifications.error_topic_arn

  log_retention_days = var.log_retention_days
  tracing_mode       = local.tracing_mode
  kms_key_arn        = var.kms_key_arn

  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  extra_policy_statements   = lookup(var.extra_policy_statements, "sweep", [])
  create_role               = !contains(keys(var.existing_role_arns), "sweep")
  existing_role_arn         = lookup(var.existing_role_arns, "sweep", null)

  tags = var.tags
}

# Adopting a bucket that already holds images: the same workflow states, once per existing object,
# as a Distributed Map (started by hand or by the CLI, never on a schedule).
module "backfill" {
  source = "../backfill"
  count  = var.backfill_enabled ? 1 : 0

  name                         = var.name
  workflow_definition          = module.workflow.definition
  execution_type               = module.workflow.type
  function_arns                = module.functions.function_arns
  upload_bucket_name           = module.storage.upload_bucket_name
  upload_bucket_arn            = module.storage.upload_bucket_arn
  upload_key_prefix            = var.key_prefix
  report_bucket_name           = module.storage.output_bucket_name
  report_bucket_arn            = module.storage.output_bucket_arn
  report_prefix                = var.backfill_report_prefix
  max_concurrency              = var.backfill_max_concurrency
  tolerated_failure_percentage = var.backfill_tolerated_failure_percentage
  kms_key_arn                  = var.kms_key_arn

  log_level              = var.workflow_log_level
  include_execution_data = var.include_execution_data
  log_retention_days     = var.log_retention_days
  tracing_enabled        = var.tracing_enabled

  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  extra_policy_statements   = lookup(var.extra_policy_statements, "backfill", [])
  create_role               = !contains(keys(var.existing_role_arns), "backfill")
  existing_role_arn         = lookup(var.existing_role_arns, "backfill", null)

  tags = var.tags
}
