variable "name" {
  description = "Name of the state machine (also names its role and log group)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, '_' or '-'."
  }
}

variable "function_arns" {
  description = "Unqualified ARNs of the five step functions. Plain strings: the module never references the Lambda resources, so no dependency cycle can form."
  type = object({
    validate = string
    resize   = string
    filter   = string
    optimize = string
    notify   = string
  })

  validation {
    condition     = alltrue([for arn in values(var.function_arns) : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", arn))])
    error_message = "Each function ARN must be an unqualified Lambda function ARN."
  }
}

variable "type" {
  description = "Workflow type: STANDARD (exactly-once, up to a year, full history) or EXPRESS (at-least-once, up to 5 minutes, cheaper at volume)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.type)
    error_message = "type must be \"STANDARD\" or \"EXPRESS\"."
  }
}

variable "retry" {
  description = "Retry policy of every working Task (the template's retry_* placeholders): exponential backoff with full jitter."
  type = object({
    interval_seconds  = optional(number, 1)
    max_attempts      = optional(number, 3)
    backoff_rate      = optional(number, 2)
    max_delay_seconds = optional(number, 30)
  })
  default = {}

  validation {
    condition     = var.retry.interval_seconds >= 1 && floor(var.retry.interval_seconds) == var.retry.interval_seconds
    error_message = "retry.interval_seconds must be a whole number, at least 1."
  }

  validation {
    condition     = var.retry.max_attempts >= 0 && var.retry.max_attempts <= 99999999 && floor(var.retry.max_attempts) == var.retry.max_attempts
    error_message = "retry.max_attempts must be a whole number between 0 and 99999999."
  }

  validation {
    condition     = var.retry.backoff_rate >= 1
    error_message = "retry.backoff_rate must be at least 1."
  }

  validation {
    condition     = var.retry.max_delay_seconds >= 1 && var.retry.max_delay_seconds < 31622400 && floor(var.retry.max_delay_seconds) == var.retry.max_delay_seconds
    error_message = "retry.max_delay_seconds must be a whole number between 1 and 31622399."
  }
}

variable "log_level" {
  description = "Execution log level: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "log_level must be one of ALL, ERROR, FATAL, OFF."
  }
}

variable "include_execution_data" {
  description = "Include state input and output in the execution logs. Off by default: they carry object keys and job facts."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the execution log group, in days (0: never expire)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs allows: 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "tracing_enabled" {
  description = "Trace executions with X-Ray."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every resource that supports them."
  type        = map(string)
  default     = {}
}
