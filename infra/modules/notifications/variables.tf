variable "name" {
  description = "Name prefix of the topics: <name>-success and <name>-error."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,248}$", var.name))
    error_message = "name must be 1-248 letters, digits, '_' or '-' (SNS topic names allow 256 characters including the suffix)."
  }
}

variable "kms_master_key_id" {
  description = "KMS key (ID, ARN or alias) encrypting both topics at rest. The AWS managed key by default; a customer managed key must let publishers and subscribers use it."
  type        = string
  default     = "alias/aws/sns"

  validation {
    condition     = length(var.kms_master_key_id) > 0
    error_message = "kms_master_key_id must not be empty: the topics are always encrypted."
  }
}

variable "subscriptions" {
  description = <<-EOT
    Subscriptions to create. topic is "success" or "error"; protocol is one of email, sqs, https, lambda;
    filter_policy is an optional JSON filter on the message attributes (status, event, reason).
    The subscriber's side (an SQS queue policy, a Lambda permission, confirming an email or https endpoint) is not managed here.
  EOT
  type = list(object({
    topic         = string
    protocol      = string
    endpoint      = string
    filter_policy = optional(string)
  }))
  default = []

  validation {
    condition     = alltrue([for subscription in var.subscriptions : contains(["success", "error"], subscription.topic)])
    error_message = "Each subscription's topic must be \"success\" or \"error\"."
  }

  validation {
    condition     = alltrue([for subscription in var.subscriptions : contains(["email", "sqs", "https", "lambda"], subscription.protocol)])
    error_message = "Each subscription's protocol must be one of email, sqs, https, lambda."
  }

  validation {
    condition     = alltrue([for subscription in var.subscriptions : length(subscription.endpoint) > 0])
    error_message = "Each subscription needs a non-empty endpoint."
  }

  validation {
    condition     = alltrue([for subscription in var.subscriptions : subscription.filter_policy == null || can(jsondecode(subscription.filter_policy))])
    error_message = "Each subscription's filter_policy must be null or a JSON document."
  }

  validation {
    condition     = length(distinct([for subscription in var.subscriptions : "${subscription.topic}|${subscription.protocol}|${subscription.endpoint}"])) == length(var.subscriptions)
    error_message = "Subscriptions must be unique by topic, protocol and endpoint."
  }
}

variable "tags" {
  description = "Tags applied to the topics."
  type        = map(string)
  default     = {}
}
