variable "region" {
  description = "AWS region to deploy to: the existing bucket's region (S3 sends its events to EventBridge there)."
  type        = string
  default     = "eu-west-1"
}

variable "artifacts_dir" {
  description = "Directory with the Lambda zips (<function>-<arm64|x64>.zip), as `make package` writes them; relative to this folder."
  type        = string
  default     = "../../../../../dist/artifacts"
}

variable "upload_bucket_name" {
  description = "Name of the existing bucket uploads land in."
  type        = string
  default     = "acme-photos-uploads"
}

variable "manage_upload_bucket_notification" {
  description = "Turn on the bucket's EventBridge notifications from here. Set false when the bucket has notifications of its own (SNS, SQS, Lambda): Terraform would replace them. Then turn EventBridge on yourself (see README)."
  type        = bool
  default     = true
}

variable "upload_bucket_kms_key_arn" {
  description = "ARN of the customer managed KMS key the existing bucket encrypts with, if any: the functions that read uploads get kms:Decrypt on it. null: SSE-S3 or no encryption."
  type        = string
  default     = null
}
