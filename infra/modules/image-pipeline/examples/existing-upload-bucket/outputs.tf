output "upload_bucket" {
  description = "The existing bucket uploads land in."
  value       = module.image_pipeline.upload_bucket
}

output "upload_bucket_arn" {
  description = "ARN of the existing upload bucket."
  value       = module.image_pipeline.upload_bucket_arn
}

output "output_bucket" {
  description = "Bucket the renditions are written to (created by the module)."
  value       = module.image_pipeline.output_bucket
}

output "output_bucket_arn" {
  description = "ARN of the output bucket."
  value       = module.image_pipeline.output_bucket_arn
}

output "state_machine_arn" {
  description = "ARN of the image workflow."
  value       = module.image_pipeline.state_machine_arn
}

output "event_rule_arn" {
  description = "ARN of the EventBridge rule matching the existing bucket's Object Created events."
  value       = module.image_pipeline.event_rule_arn
}

output "role_arns" {
  description = "IAM role ARNs by role (the five functions, workflow, trigger)."
  value       = module.image_pipeline.role_arns
}
