output "upload_bucket" {
  description = "Name of the upload bucket: every object created here is processed."
  value       = module.storage.upload_bucket_name
}

output "output_bucket" {
  description = "Name of the output bucket: renditions under renditions/, watermark images under assets/."
  value       = module.storage.output_bucket_name
}

output "state_machine_arn" {
  description = "ARN of the image workflow's state machine."
  value       = module.workflow.state_machine_arn
}

output "jobs_table" {
  description = "Name of the job ledger table."
  value       = module.ledger.table_name
}

output "success_topic_arn" {
  description = "ARN of the topic job.succeeded messages go to."
  value       = module.notifications.success_topic_arn
}

output "error_topic_arn" {
  description = "ARN of the topic job.rejected and job.failed messages go to."
  value       = module.notifications.error_topic_arn
}

output "dead_letter_queue_url" {
  description = "URL of the queue holding upload events that could not start an execution."
  value       = module.trigger.dead_letter_queue_url
}

output "function_names" {
  description = "Lambda function names by step (validate, resize, filter, optimize, notify)."
  value       = module.functions.function_names
}

output "upload_bucket_arn" {
  description = "ARN of the upload bucket (created here, or the existing one: create_upload_bucket = false)."
  value       = module.storage.upload_bucket_arn
}

output "output_bucket_arn" {
  description = "ARN of the output bucket."
  value       = module.storage.output_bucket_arn
}

output "jobs_table_arn" {
  description = "ARN of the job ledger table."
  value       = module.ledger.table_arn
}

output "jobs_table_index_arns" {
  description = "ARNs of the job ledger's global secondary indexes, by index name (byStatus, bySourceKey)."
  value       = module.ledger.index_arns
}

output "state_machine_name" {
  description = "Name of the image workflow's state machine."
  value       = module.workflow.state_machine_name
}

output "function_arns" {
  description = "Lambda function ARNs by step (validate, resize, filter, optimize, notify)."
  value       = module.functions.function_arns
}

output "role_arns" {
  description = "IAM role ARNs by role: validate, resize, filter, optimize, notify (the functions), workflow (the state machine), trigger (EventBridge), sweep (the sweeper, when sweeper_enabled), backfill (the backfill state machine, when backfill_enabled); created here or from existing_role_arns."
  value       = merge(module.functions.role_arns, { workflow = module.workflow.role_arn, trigger = module.trigger.role_arn }, { for sweeper in module.sweeper : "sweep" => sweeper.role_arn }, { for backfill in module.backfill : "backfill" => backfill.role_arn })
}

output "role_policy_json" {
  description = "The least-privilege policy of each role (JSON), by role as in role_arns: what a central IAM process attaches to the roles it passes in existing_role_arns."
  value       = merge(module.functions.role_policy_json, { workflow = module.workflow.role_policy_json, trigger = module.trigger.role_policy_json }, { for sweeper in module.sweeper : "sweep" => sweeper.role_policy_json }, { for backfill in module.backfill : "backfill" => backfill.role_policy_json })
}

output "log_group_names" {
  description = "CloudWatch log group names: one per function by step, and workflow (the state machine's execution logs)."
  value       = merge(module.functions.log_group_names, { workflow = module.workflow.log_group_name })
}

output "log_group_arns" {
  description = "CloudWatch log group ARNs, keyed as log_group_names."
  value       = merge(module.functions.log_group_arns, { workflow = module.workflow.log_group_arn })
}

output "event_rule_arn" {
  description = "ARN of the EventBridge rule that starts an execution per upload."
  value       = module.trigger.rule_arn
}

output "event_rule_name" {
  description = "Name of the EventBridge rule that starts an execution per upload."
  value       = module.trigger.rule_name
}

output "dead_letter_queue_arn" {
  description = "ARN of the queue holding upload events that could not start an execution."
  value       = module.trigger.dead_letter_queue_arn
}

output "alarm_arns" {
  description = "CloudWatch alarm ARNs, by alarm (executions-failed, executions-timed-out, dead-letters, <step>-errors, <step>-throttles)."
  value       = module.alarms.alarm_arns
}

output "sweeper_function_name" {
  description = "Name of the sweeper function (<name>-sweep); null when sweeper_enabled = false."
  value       = one(module.sweeper[*].function_name)
}

output "sweeper_function_arn" {
  description = "ARN of the sweeper function; null when sweeper_enabled = false."
  value       = one(module.sweeper[*].function_arn)
}

output "sweeper_rule_arn" {
  description = "ARN of the EventBridge rule that runs the sweeper on its schedule; null when sweeper_enabled = false."
  value       = one(module.sweeper[*].rule_arn)
}

output "sweeper_dead_letter_queue_arn" {
  description = "ARN of the queue holding scheduled events that could not invoke the sweeper; null when sweeper_enabled = false."
  value       = one(module.sweeper[*].dead_letter_queue_arn)
}

output "sweeper_log_group_name" {
  description = "Name of the sweeper's log group; null when sweeper_enabled = false."
  value       = one(module.sweeper[*].log_group_name)
}

output "backfill_state_machine_arn" {
  description = "ARN of the backfill state machine: start an execution with {} (every object under key_prefix) or {\"prefix\": \"<key prefix>\"}; null when backfill_enabled = false."
  value       = one(module.backfill[*].state_machine_arn)
}

output "backfill_state_machine_name" {
  description = "Name of the backfill state machine (<name>-backfill); null when backfill_enabled = false."
  value       = one(module.backfill[*].state_machine_name)
}

output "backfill_log_group_name" {
  description = "Name of the backfill's execution log group; null when backfill_enabled = false."
  value       = one(module.backfill[*].log_group_name)
}

output "backfill_report_location" {
  description = "Where backfills write their reports (s3://<output bucket>/<backfill_report_prefix>); null when backfill_enabled = false."
  value       = one([for backfill in module.backfill : "s3://${module.storage.output_bucket_name}/${backfill.report_prefix}"])
}
