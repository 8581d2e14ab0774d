output "upload_bucket" {
  description = "Bucket to upload images to: every object created there is processed."
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

output "jobs_table_arn" {
  description = "ARN of the job ledger table."
  value       = module.image_pipeline.jobs_table_arn
}
