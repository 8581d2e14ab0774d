variable "name" {
  description = "Name of the state machine (also names its role and log group)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, '_' or '-'."
  }
}

variable "function_arns" {
  description = "Unqualified ARNs of the step functions, by step (the steps of contract.json: validate, resize, filter, optimize, notify). Plain strings: the module never references the Lambda resources, so no dependency cycle can form."
  type        = map(string)

  validation {
    condition     = alltrue([for arn in values(var.function_arns) : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", arn))])
    error_message = "Each function ARN must be an unqualified Lambda function ARN."
  }
}

variable "function_timeouts" {
  description = "Timeout (seconds) of each step's Lambda function, by step; each Task's TimeoutSeconds is this plus the contract's margin. Unset steps take the contract's defaults."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for seconds in values(var.function_timeouts) : seconds >= 1 && seconds <= 900])
    error_message = "Each function timeout must be between 1 and 900 seconds (Lambda's range)."
  }
}

variable "type" {
  description = "Workflow type: EXPRESS (at-least-once, up to 5 minutes, billed per request) or STANDARD (exactly-once, up to a year, full history). null: the contract's default (contract.json workflow.default_type, EXPRESS)."
  type        = string
  default     = null

  validation {
    condition     = var.type == null || contains(["STANDARD", "EXPRESS"], coalesce(var.type, "EXPRESS"))
    error_message = "type must be \"STANDARD\", \"EXPRESS\" or null (the contract's default)."
  }
}

variable "retry" {
  description = "Retry policy of every working Task: exponential backoff with full jitter. Unset fields take the contract's values (contract.json retry: 1 s, 3 attempts, rate 2, at most 30 s)."
  type = object({
    interval_seconds  = optional(number)
    max_attempts      = optional(number)
    backoff_rate      = optional(number)
    max_delay_seconds = optional(number)
  })
  default = {}

  validation {
    condition     = var.retry.interval_seconds == null || try(var.retry.interval_seconds >= 1 && floor(var.retry.interval_seconds) == var.retry.interval_seconds, false)
    error_message = "retry.interval_seconds must be a whole number, at least 1."
  }

  validation {
    condition     = var.retry.max_attempts == null || try(var.retry.max_attempts >= 0 && var.retry.max_attempts <= 99999999 && floor(var.retry.max_attempts) == var.retry.max_attempts, false)
    error_message = "retry.max_attempts must be a whole number between 0 and 99999999."
  }

  validation {
    condition     = var.retry.backoff_rate == null || try(var.retry.backoff_rate >= 1, false)
    error_message = "retry.backoff_rate must be at least 1."
  }

  validation {
    condition     = var.retry.max_delay_seconds == null || try(var.retry.max_delay_seconds >= 1 && var.retry.max_delay_seconds < 31622400 && floor(var.retry.max_delay_seconds) == var.retry.max_delay_seconds, false)
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

variable "role_path" {
  description = "Path of the IAM role this module creates (e.g. \"/imgflow/\"), for an account whose IAM conventions require one."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path)) && length(var.role_path) <= 512
    error_message = "role_path must start and end with '/' (e.g. \"/\" or \"/imgflow/\"), at most 512 characters."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of the managed policy set as permissions boundary on the role this module creates. null: no boundary."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary))
    error_message = "role_permissions_boundary must be null or an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "extra_policy_statements" {
  description = "Statements added to the state machine role's policy. effect defaults to Allow; an Allow may not use \"*\" or \"<service>:*\" actions. Ignored with create_role = false."
  type = list(object({
    sid       = optional(string)
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition     = alltrue([for statement in var.extra_policy_statements : contains(["Allow", "Deny"], statement.effect) && length(statement.actions) > 0 && length(statement.resources) > 0 && (statement.sid == null || can(regex("^[A-Za-z0-9]+$", statement.sid)))])
    error_message = "Each extra statement needs effect Allow or Deny, at least one action and one resource, and an alphanumeric sid (or none)."
  }

  validation {
    condition = alltrue(flatten([
      for statement in var.extra_policy_statements : [
        for action in statement.actions : statement.effect == "Deny" ? can(regex("^(\\*|[a-z0-9-]+:[A-Za-z0-9*]+)$", action)) : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+[A-Za-z0-9*]*$", action))
      ]
    ]))
    error_message = "Each extra action must look like \"<service>:<Action>\" (a trailing * is allowed, e.g. \"s3:Get*\"); an Allow may not grant \"*\" or \"<service>:*\" (least privilege: list the actions)."
  }
}

variable "create_role" {
  description = "Create the state machine's role here. false: use existing_role_arn instead, for accounts where a central IAM process owns roles."
  type        = bool
  default     = true
}

variable "existing_role_arn" {
  description = "With create_role = false: the role to use. Give it the policy in the role_policy_json output and a trust policy for states.amazonaws.com."
  type        = string
  default     = null

  validation {
    condition     = var.existing_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.existing_role_arn))
    error_message = "existing_role_arn must be null or an IAM role ARN (arn:aws:iam::<account>:role/<path><name>)."
  }
}
