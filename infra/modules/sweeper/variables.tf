variable "name" {
  description = "Deployment name: the function is <name>-sweep, its rule <name>-sweep, its role <name>-sweep-<region>, its queue <name>-sweep-dlq."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,54}$", var.name))
    error_message = "name must be 1-54 letters, digits, '_' or '-' (as the functions module's name: the Lambda name takes a suffix)."
  }
}

variable "artifacts_dir" {
  description = "Directory holding the prebuilt Lambda zips; the sweeper's is sweep-<arm64|x64>.zip (apps/release builds it with the step functions')."
  type        = string
}

variable "architecture" {
  description = "Instruction set of the functions. The zip name uses arm64 or x64 (for x86_64)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "memory_size" {
  description = "Memory of the sweeper function, in MB. null: the workflow contract's default (contract.json sweeper.memory_mb)."
  type        = number
  default     = null

  validation {
    condition     = var.memory_size == null || try(var.memory_size >= 128 && var.memory_size <= 10240, false)
    error_message = "memory_size must be null or between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout of the sweeper function, in seconds. null: the workflow contract's default (contract.json sweeper.timeout_seconds)."
  type        = number
  default     = null

  validation {
    condition     = var.timeout == null || try(var.timeout >= 1 && var.timeout <= 900, false)
    error_message = "timeout must be null or between 1 and 900 seconds."
  }
}

variable "schedule_expression" {
  description = "How often the sweeper runs: an EventBridge schedule expression, rate(...) or cron(...). null: the workflow contract's default (contract.json sweeper.schedule, rate(5 minutes))."
  type        = string
  default     = null

  validation {
    condition     = var.schedule_expression == null || try(can(regex("^(rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)|cron\\(\\S+( \\S+){5}\\))$", var.schedule_expression)), false)
    error_message = "schedule_expression must be null, rate(<n> <unit>) (e.g. rate(1 minute), rate(5 minutes)) or cron(<6 fields>)."
  }
}

variable "output_bucket_name" {
  description = "Name of the output bucket (IMGFLOW_OUTPUT_BUCKET): the sweeper deletes abandoned jobs' work objects there."
  type        = string
}

variable "output_bucket_arn" {
  description = "ARN of the output bucket."
  type        = string
}

variable "output_prefix" {
  description = "Prefix of the finished renditions (IMGFLOW_OUTPUT_PREFIX; the sweeper only checks it does not overlap the others). null: the workflow contract's default."
  type        = string
  default     = null
}

variable "work_prefix" {
  description = "Prefix of the intermediate bundles (IMGFLOW_WORK_PREFIX): the only keys the sweeper may delete. null: the workflow contract's default (contract.json config.work_prefix)."
  type        = string
  default     = null
}

variable "assets_prefix" {
  description = "Prefix of the recipe assets (IMGFLOW_ASSETS_PREFIX; the sweeper only checks it does not overlap the others). null: the workflow contract's default."
  type        = string
  default     = null
}

variable "jobs_table_name" {
  description = "Name of the job ledger table (IMGFLOW_JOBS_TABLE)."
  type        = string
}

variable "jobs_table_arn" {
  description = "ARN of the job ledger table."
  type        = string
}

variable "status_index_arn" {
  description = "ARN of the ledger's byStatus index (the ledger module's index_arns[\"byStatus\"]): the sweeper queries it for PENDING/PROCESSING and finished jobs."
  type        = string
}

variable "success_topic_arn" {
  description = "ARN of the success topic (IMGFLOW_SUCCESS_TOPIC_ARN): a SUCCEEDED job never notified gets its job.succeeded there."
  type        = string
}

variable "error_topic_arn" {
  description = "ARN of the error topic (IMGFLOW_ERROR_TOPIC_ARN): abandoned jobs' job.failed, and missed job.rejected/job.failed."
  type        = string
}

variable "lease_seconds" {
  description = "The jobs' lease (IMGFLOW_LEASE_SECONDS), as the functions have it: a PENDING/PROCESSING job past it is abandoned. null: the workflow contract's default (contract.json config.lease_seconds)."
  type        = number
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the sweeper's log group, in days (0: never expire)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs allows: 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the sweeper function: PassThrough (trace only when the caller sampled) or Active."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be \"PassThrough\" or \"Active\"."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key the buckets, table or topics use, if any: the sweeper gets kms:Decrypt and kms:GenerateDataKey on it. null: no KMS permissions."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "maximum_event_age_in_seconds" {
  description = "How long EventBridge keeps retrying to invoke the sweeper before the scheduled event goes to the dead-letter queue."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 86400
    error_message = "maximum_event_age_in_seconds must be between 60 and 86400."
  }
}

variable "maximum_retry_attempts" {
  description = "How many times EventBridge retries invoking the sweeper before the scheduled event goes to the dead-letter queue."
  type        = number
  default     = 3

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 185 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "maximum_retry_attempts must be a whole number between 0 and 185."
  }
}

variable "dead_letter_retention_seconds" {
  description = "How long a scheduled event that could not invoke the sweeper stays in the dead-letter queue."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_retention_seconds >= 60 && var.dead_letter_retention_seconds <= 1209600
    error_message = "dead_letter_retention_seconds must be between 60 and 1209600 (14 days)."
  }
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
  description = "Statements added to the sweeper function's role policy. effect defaults to Allow; an Allow may not use \"*\" or \"<service>:*\" actions. Ignored with create_role = false."
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
  description = "Create the sweeper function's role here. false: use existing_role_arn instead, for accounts where a central IAM process owns roles."
  type        = bool
  default     = true
}

variable "existing_role_arn" {
  description = "With create_role = false: the role to use. Give it the policy in the role_policy_json output and a trust policy for lambda.amazonaws.com."
  type        = string
  default     = null

  validation {
    condition     = var.existing_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.existing_role_arn))
    error_message = "existing_role_arn must be null or an IAM role ARN (arn:aws:iam::<account>:role/<path><name>)."
  }
}

variable "tags" {
  description = "Tags applied to every resource that supports them."
  type        = map(string)
  default     = {}
}
