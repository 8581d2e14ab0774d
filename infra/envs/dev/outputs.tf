# What `imgflow submit` needs to talk to this deployment (the first seven), then the ARNs that
# monitoring, IAM reviews and other stacks refer to.

output "upload_bucket" {
  description = "Bucket to upload images to."
  value       = module.image_pipeline.upload_bucket
}

output "output_bucket" {
  description = "Bucket the renditions are written to."
  value       = module.image_pipeline.output_bucket
}

output "state_machine_arn" {
  description = "ARN of the image workflow."
  value       = module.image_pipeline.state_machine_arn
}

output "backfill_state_machine_arn" {
  description = "The backfill state machine (null when backfill_enabled is false): pnpm imgflow backfill --remote --state-machine-arn <this>."
  value       = module.image_pipeline.backfill_state_machine_arn
}

output "jobs_table" {
  description = "Name of the job ledger table."
  value       = module.image_pipeline.jobs_table
}

output "success_topic_arn" {
  description = "ARN of the success topic."
  value       = module.image_pipeline.success_topic_arn
}

output "error_topic_arn" {
  description = "ARN of the error topic."
  value       = module.image_pipeline.error_topic_arn
}

output "region" {
  description = "Region the environment is deployed in."
  value       = var.region
}

output "upload_bucket_arn" {
  description = "ARN of the upload bucket."
  value       = module.image_pipeline.upload_bucket_arn
}

output "output_bucket_arn" {
  description = "ARN of the output bucket."
  value       = module.image_pipeline.output_bucket_arn
}

output "jobs_table_arn" {
  description = "ARN of the job ledger table."
  value       = module.image_pipeline.jobs_table_arn
}

output "function_arns" {
  description = "Lambda function ARNs by step."
  value       = module.image_pipeline.function_arns
}

output "role_arns" {
  description = "IAM role ARNs by role (the five functions, workflow, trigger)."
  value       = module.image_pipeline.role_arns
}

output "log_group_arns" {
  description = "CloudWatch log group ARNs (the five functions, workflow)."
  value       = module.image_pipeline.log_group_arns
}

output "event_rule_arn" {
  description = "ARN of the EventBridge rule that starts an execution per upload."
  value       = module.image_pipeline.event_rule_arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the trigger's dead-letter queue."
  value       = module.image_pipeline.dead_letter_queue_arn
}

output "alarm_arns" {
  description = "CloudWatch alarm ARNs, by alarm."
  value       = module.image_pipeline.alarm_arns
}
