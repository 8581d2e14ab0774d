data "aws_region" "current" {}

resource "aws_s3_bucket" "this" {
  for_each = local.created_buckets

  bucket        = each.value.name
  force_destroy = var.force_destroy

  tags = merge(var.tags, { "imgflow:bucket" = each.key })

  lifecycle {
    precondition {
      # Without a name S3 would make one up, and the trigger would match nothing.
      condition     = each.value.name != null
      error_message = "upload_bucket_name must name the upload bucket."
    }
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.sse_algorithm
      kms_master_key_id = var.kms_key_arn
    }
    # S3 Bucket Keys cut KMS requests (and cost) for SSE-KMS; ignored for SSE-S3.
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  versioning_configuration {
    status = local.buckets[each.key].versioning
  }
}

data "aws_iam_policy_document" "bucket" {
  for_each = aws_s3_bucket.this

  # A Deny must cover every S3 action, so this is the one place a service-wide action appears.
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket[each.key].json

  # S3 rejects a policy written while the public access block is being changed.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "upload" {
  count = var.create_upload_bucket ? 1 : 0

  bucket = aws_s3_bucket.this["upload"].id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  dynamic "rule" {
    for_each = var.upload_noncurrent_version_expiration_days == null ? [] : [var.upload_noncurrent_version_expiration_days]

    content {
      id     = "expire-noncurrent-versions"
      status = "Enabled"

      filter {}

      noncurrent_version_expiration {
        noncurrent_days = rule.value
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "output" {
  bucket = aws_s3_bucket.this["output"].id

  rule {
    id     = "expire-work-objects"
    status = "Enabled"

    filter {
      prefix = local.work_prefix
    }

    expiration {
      days = var.work_expiration_days
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# An existing upload bucket: looked up so that a wrong name or region fails the plan, not the
# first upload. Its settings (versioning, encryption, policy, lifecycle) stay with its owner.
data "aws_s3_bucket" "upload" {
  count = var.create_upload_bucket ? 0 : 1

  bucket = var.upload_bucket_name

  lifecycle {
    precondition {
      condition     = var.upload_bucket_name != null
      error_message = "create_upload_bucket = false needs upload_bucket_name: the name of the existing bucket."
    }

    postcondition {
      # S3 sends a bucket's events to EventBridge in the bucket's own region only. (Provider v6
      # reports the configured region here, and bucket_region for the bucket's: the check
      # then passes; the requirement stands.)
      condition     = self.region == data.aws_region.current.name
      error_message = "The existing upload bucket ${var.upload_bucket_name} is in ${self.region}, this deployment in ${data.aws_region.current.name}: S3 sends events to EventBridge in the bucket's region only, so deploy there."
    }
  }
}

# "Object Created" events go to EventBridge, where the trigger module's rule picks them up.
# The resource owns the bucket's whole notification configuration: for an existing bucket with
# notifications of its own, set manage_upload_bucket_notification = false and turn EventBridge on
# where that configuration is managed.
resource "aws_s3_bucket_notification" "upload" {
  count = var.create_upload_bucket || var.manage_upload_bucket_notification ? 1 : 0

  bucket      = local.upload_bucket_name
  eventbridge = true
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.upload
  to   = aws_s3_bucket_lifecycle_configuration.upload[0]
}

moved {
  from = aws_s3_bucket_notification.upload
  to   = aws_s3_bucket_notification.upload[0]
}
