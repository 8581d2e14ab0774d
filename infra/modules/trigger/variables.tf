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
  description = "Statements added to the EventBridge role's policy. effect defaults to Allow; an Allow may not use \"*\" or \"<service>:*\" actions. Ignored with create_role = false."
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
  description = "Create the EventBridge role here. false: use existing_role_arn instead, for accounts where a central IAM process owns roles."
  type        = bool
  default     = true
}

variable "existing_role_arn" {
  description = "With create_role = false: the role to use. Give it the policy in the role_policy_json output and a trust policy for events.amazonaws.com."
  type        = string
  default     = null

  validation {
    condition     = var.existing_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.existing_role_arn))
    error_message = "existing_role_arn must be null or an IAM role ARN (arn:aws:iam::<account>:role/<path><name>)."
  }
}
