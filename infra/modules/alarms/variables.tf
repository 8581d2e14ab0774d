variable "name" {
  description = "Prefix of the alarm names: <name>-<alarm>."
  type        = string
}

variable "state_machine_arn" {
  description = "ARN of the state machine whose failed and timed-out executions raise alarms."
  type        = string
}

variable "dead_letter_queue_name" {
  description = "Name of the trigger's dead-letter queue: any message in it is an upload that never started a workflow."
  type        = string
}

variable "function_names" {
  description = "Lambda function names by step; each gets an Errors and a Throttles alarm."
  type        = map(string)
}

variable "sweeper" {
  description = "The sweeper to watch (image-pipeline's sweeper module): its function's errors and throttles, its dead-letter queue and the jobs a run could not end or notify. null: no sweeper."
  type = object({
    function_name          = string
    dead_letter_queue_name = string
    error_metric           = object({ namespace = string, name = string })
  })
  default = null
}

variable "alarm_topic_arn" {
  description = "SNS topic ARN notified when an alarm fires and when it recovers. null: alarms without actions."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be null or an SNS topic ARN."
  }
}

variable "period_seconds" {
  description = "Period over which each metric is aggregated, in seconds (a multiple of 60)."
  type        = number
  default     = 300

  validation {
    condition     = var.period_seconds >= 60 && var.period_seconds % 60 == 0
    error_message = "period_seconds must be a positive multiple of 60."
  }
}

variable "evaluation_periods" {
  description = "Number of consecutive periods that must breach before an alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.evaluation_periods >= 1 && floor(var.evaluation_periods) == var.evaluation_periods
    error_message = "evaluation_periods must be a whole number, at least 1."
  }
}

variable "executions_failed_threshold" {
  description = "Failed executions per period that raise the alarm (a rejected upload ends as succeeded and does not count)."
  type        = number
  default     = 1

  validation {
    condition     = var.executions_failed_threshold >= 1
    error_message = "executions_failed_threshold must be at least 1."
  }
}

variable "executions_timed_out_threshold" {
  description = "Timed-out executions per period that raise the alarm."
  type        = number
  default     = 1

  validation {
    condition     = var.executions_timed_out_threshold >= 1
    error_message = "executions_timed_out_threshold must be at least 1."
  }
}

variable "function_errors_threshold" {
  description = "Errors per function per period that raise its alarm (Step Functions retries transient errors, so a few may be normal)."
  type        = number
  default     = 1

  validation {
    condition     = var.function_errors_threshold >= 1
    error_message = "function_errors_threshold must be at least 1."
  }
}

variable "function_throttles_threshold" {
  description = "Throttles per function per period that raise its alarm."
  type        = number
  default     = 1

  validation {
    condition     = var.function_throttles_threshold >= 1
    error_message = "function_throttles_threshold must be at least 1."
  }
}

variable "tags" {
  description = "Tags applied to the alarms."
  type        = map(string)
  default     = {}
}
