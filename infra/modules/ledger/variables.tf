variable "name" {
  description = "Name of the job ledger table (IMGFLOW_JOBS_TABLE)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters: letters, digits, '_', '-', '.'."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the table. null: the AWS managed key (alias/aws/dynamodb)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "deletion_protection_enabled" {
  description = "Refuse to delete the table (the ledger is the record of every upload). Turn off only to tear down an environment."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to the table."
  type        = map(string)
  default     = {}
}
