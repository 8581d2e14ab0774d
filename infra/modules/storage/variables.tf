variable "upload_bucket_name" {
  description = "Name of the bucket uploads land in. Every object created here starts a workflow execution. With create_upload_bucket = false, the name of an existing bucket in this account and region."
  type        = string

  validation {
    # null only reaches the precondition that names the missing input.
    condition     = var.upload_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.upload_bucket_name))
    error_message = "upload_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "create_upload_bucket" {
  description = "Create the upload bucket. false: upload_bucket_name is an existing bucket (same account and region) whose versioning, encryption, policy and lifecycle stay with its owner; this module then manages at most its EventBridge notification (manage_upload_bucket_notification)."
  type        = bool
  default     = true
}

variable "manage_upload_bucket_notification" {
  description = "Only with create_upload_bucket = false: write the existing bucket's notification configuration with EventBridge on. That resource replaces the bucket's whole notification configuration, so set false when the bucket has notifications of its own (SNS, SQS, Lambda) and turn on \"Send notifications to Amazon EventBridge\" where they are managed. A created bucket always gets EventBridge on."
  type        = bool
  default     = true
}

variable "output_bucket_name" {
  description = "Name of the bucket renditions, work objects and recipe assets live in. Separate from the upload bucket so outputs never re-trigger the workflow."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.output_bucket_name))
    error_message = "output_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "upload_versioning" {
  description = "Versioning status of the upload bucket. The job id includes the version id, so an overwritten upload is a new job."
  type        = string
  default     = "Enabled"

  validation {
    condition     = contains(["Enabled", "Suspended", "Disabled"], var.upload_versioning)
    error_message = "upload_versioning must be one of Enabled, Suspended, Disabled."
  }
}

variable "output_versioning" {
  description = "Versioning status of the output bucket. Outputs are derived data (re-creatable from the uploads), so it is off by default."
  type        = string
  default     = "Disabled"

  validation {
    condition     = contains(["Enabled", "Suspended", "Disabled"], var.output_versioning)
    error_message = "output_versioning must be one of Enabled, Suspended, Disabled."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for SSE-KMS on both buckets. null: SSE-S3 (AES256)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "work_prefix" {
  description = "Prefix of the intermediate objects in the output bucket (IMGFLOW_WORK_PREFIX). The notify step deletes them; the lifecycle rule is the backstop. null: the workflow contract's default (contract.json config.work_prefix)."
  type        = string
  default     = null

  validation {
    condition     = var.work_prefix == null || try(can(regex("^([a-z0-9][a-z0-9_-]*/)+$", var.work_prefix)), false)
    error_message = "work_prefix must be one or more lowercase path segments, each ending in '/', e.g. \"work/\"."
  }
}

variable "work_expiration_days" {
  description = "Days after which objects under work_prefix expire (backstop for executions that never reached the notify step)."
  type        = number
  default     = 1

  validation {
    condition     = var.work_expiration_days >= 1 && floor(var.work_expiration_days) == var.work_expiration_days
    error_message = "work_expiration_days must be a whole number of days, at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted in both buckets."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number of days, at least 1."
  }
}

variable "upload_noncurrent_version_expiration_days" {
  description = "Days after which noncurrent (overwritten or deleted) versions in the upload bucket expire. null: keep them forever."
  type        = number
  default     = 30

  validation {
    condition     = var.upload_noncurrent_version_expiration_days == null || try(var.upload_noncurrent_version_expiration_days >= 1 && floor(var.upload_noncurrent_version_expiration_days) == var.upload_noncurrent_version_expiration_days, false)
    error_message = "upload_noncurrent_version_expiration_days must be null or a whole number of days, at least 1."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets (all uploads and renditions are lost). Keep false outside throwaway environments."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every resource that supports them."
  type        = map(string)
  default     = {}
}
