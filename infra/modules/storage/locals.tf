locals {
  buckets = {
    upload = {
      name       = var.upload_bucket_name
      versioning = var.upload_versioning
    }
    output = {
      name       = var.output_bucket_name
      versioning = var.output_versioning
    }
  }

  # The buckets this module creates: both, or only the output bucket next to an existing upload bucket.
  created_buckets = { for bucket, settings in local.buckets : bucket => settings if bucket != "upload" || var.create_upload_bucket }

  upload_bucket_name = var.create_upload_bucket ? aws_s3_bucket.this["upload"].bucket : data.aws_s3_bucket.upload[0].id
  upload_bucket_arn  = var.create_upload_bucket ? aws_s3_bucket.this["upload"].arn : data.aws_s3_bucket.upload[0].arn

  sse_algorithm = var.kms_key_arn == null ? "AES256" : "aws:kms"
}

locals {
  # Unset settings take the workflow contract's defaults (the same the functions' configFromEnv() uses).
  config_defaults = jsondecode(file("${path.module}/../workflow/contract.json")).config
  work_prefix     = coalesce(var.work_prefix, local.config_defaults.work_prefix)
}
