data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

module "storage" {
  source = "../storage"

  upload_bucket_name = local.upload_bucket_name
  output_bucket_name = local.output_bucket_name
  kms_key_arn        = var.kms_key_arn
  work_prefix        = local.work_prefix
  force_destroy      = var.force_destroy

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
  output_bucket_name = module.storage.output_bucket_name
  output_bucket_arn  = module.storage.output_bucket_arn
  output_prefix      = local.output_prefix
  work_prefix        = local.work_prefix
  assets_prefix      = local.assets_prefix
  jobs_table_name    = module.ledger.table_name
  jobs_table_arn     = module.ledger.table_arn
  success_topic_arn  = module.notifications.success_topic_arn
  error_topic_arn    = module.notifications.error_topic_arn
  recipe_json        = var.recipe_json
  limits_json        = var.limits_json

  log_retention_days = var.log_retention_days
  tracing_mode       = local.tracing_mode
  kms_key_arn        = var.kms_key_arn

  tags = var.tags
}

module "workflow" {
  source = "../workflow"

  name               = var.name
  type               = var.workflow_type
  function_arns      = module.functions.function_arns
  log_retention_days = var.log_retention_days
  tracing_enabled    = var.tracing_enabled

  tags = var.tags
}

module "trigger" {
  source = "../trigger"

  name               = "${var.name}-upload"
  upload_bucket_name = module.storage.upload_bucket_name
  state_machine_arn  = module.workflow.state_machine_arn
  key_prefix         = var.key_prefix
  key_suffixes       = var.key_suffixes

  tags = var.tags
}

module "alarms" {
  source = "../alarms"

  name                   = var.name
  state_machine_arn      = module.workflow.state_machine_arn
  dead_letter_queue_name = module.trigger.dead_letter_queue_name
  function_names         = module.functions.function_names
  alarm_topic_arn        = var.alarm_topic_arn

  tags = var.tags
}
