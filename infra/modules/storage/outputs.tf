output "upload_bucket_name" {
  description = "Name of the upload bucket (created here, or the existing one)."
  value       = local.upload_bucket_name
}

output "upload_bucket_arn" {
  description = "ARN of the upload bucket (created here, or the existing one)."
  value       = local.upload_bucket_arn
}

output "upload_bucket_created" {
  description = "Whether this module created the upload bucket (false: an existing bucket, create_upload_bucket = false)."
  value       = var.create_upload_bucket
}

output "output_bucket_name" {
  description = "Name of the output bucket."
  value       = aws_s3_bucket.this["output"].id
}

output "output_bucket_arn" {
  description = "ARN of the output bucket."
  value       = aws_s3_bucket.this["output"].arn
}

output "work_prefix" {
  description = "Prefix of the intermediate objects the lifecycle rule expires (pass the same value to the functions)."
  value       = local.work_prefix
}
