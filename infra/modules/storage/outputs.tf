output "upload_bucket_name" {
  description = "Name of the upload bucket."
  value       = aws_s3_bucket.this["upload"].id
}

output "upload_bucket_arn" {
  description = "ARN of the upload bucket."
  value       = aws_s3_bucket.this["upload"].arn
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
  value       = var.work_prefix
}
