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

  sse_algorithm = var.kms_key_arn == null ? "AES256" : "aws:kms"
}
