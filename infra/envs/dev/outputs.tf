# Exactly what `imgflow submit` needs to talk to this deployment.

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
