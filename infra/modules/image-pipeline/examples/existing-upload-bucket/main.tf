provider "aws" {
  region = var.region
}

locals {
  # The functions that read uploads; they need the bucket key's kms:Decrypt when it has one.
  upload_readers = ["validate", "resize", "filter", "optimize"]
}

# A team whose uploads already land in a bucket of its own (same account and region): the
# module creates no upload bucket, only takes that one's "Object Created" events.
module "image_pipeline" {
  source = "../../"

  name          = "photos-prod"
  artifacts_dir = var.artifacts_dir

  create_upload_bucket              = false
  upload_bucket_name                = var.upload_bucket_name
  manage_upload_bucket_notification = var.manage_upload_bucket_notification

  # A shared bucket: only new images under incoming/ start the workflow.
  key_prefix   = "incoming/"
  key_suffixes = [".jpg", ".jpeg", ".png", ".webp"]

  extra_policy_statements = var.upload_bucket_kms_key_arn == null ? {} : {
    for step in local.upload_readers : step => [
      {
        sid       = "DecryptUploads"
        actions   = ["kms:Decrypt"]
        resources = [var.upload_bucket_kms_key_arn]
      },
    ]
  }
}
