variable "name" {
  description = "Name of the rule (also names its role and dead-letter queue)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,60}$", var.name))
    error_message = "name must be 1-60 letters, digits, '.', '_' or '-'."
  }
}

variable "upload_bucket_name" {
  description = "Name of the upload bucket whose \"Object Created\" events start executions. The bucket must send events to EventBridge."
  type        = string
}

variable "state_machine_arn" {
  description = "ARN of the state machine the rule starts. Its input is the EventBridge event itself."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]+$", var.state_machine_arn))
    error_message = "state_machine_arn must be a Step Functions state machine ARN."
  }
}

variable "key_prefix" {
  description = "Only keys starting with this prefix start a workflow. Empty: every key."
  type        = string
  default     = ""
}

variable "key_suffixes" {
  description = "Only keys ending in one of these suffixes (case-sensitive, e.g. \".jpg\") start a workflow. Empty: every key."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for suffix in var.key_suffixes : length(suffix) > 0])
    error_message = "key_suffixes must not contain empty strings."
  }
}

variable "maximum_event_age_in_seconds" {
  description = "How long EventBridge keeps retrying to start an execution before the event goes to the dead-letter queue."
  type        = number
  default     = 86400

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 86400
    error_message = "maximum_event_age_in_seconds must be between 60 and 86400."
  }
}

variable "maximum_retry_attempts" {
  description = "How many times EventBridge retries starting an execution before the event goes to the dead-letter queue."
  type        = number
  default     = 185

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 185 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "maximum_retry_attempts must be a whole number between 0 and 185."
  }
}

variable "dead_letter_retention_seconds" {
  description = "How long an undeliverable event stays in the dead-letter queue."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_retention_seconds >= 60 && var.dead_letter_retention_seconds <= 1209600
    error_message = "dead_letter_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "tags" {
  description = "Tags applied to every resource that supports them."
  type        = map(string)
  default     = {}
}
