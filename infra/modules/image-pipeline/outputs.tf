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
