variable "name" {
  description = "Name prefix of the functions, roles and log groups: <name>-<function>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,54}$", var.name))
    error_message = "name must be 1-54 letters, digits, '_' or '-' (Lambda names allow 64 characters including the function suffix)."
  }
}

variable "functions" {
  description = "Settings per function. Keys are exactly validate, resize, filter, optimize, notify; environment is merged over the IMGFLOW_* variables; reserved_concurrency null leaves the function unreserved."
  type = map(object({
    memory_size          = number
    timeout              = number
    environment          = optional(map(string), {})
    reserved_concurrency = optional(number)
  }))

  validation {
    condition     = length(setsubtract(keys(var.functions), ["validate", "resize", "filter", "optimize", "notify"])) == 0 && length(keys(var.functions)) == 5
    error_message = "functions must have exactly the keys validate, resize, filter, optimize, notify."
  }

  validation {
    condition     = alltrue([for settings in values(var.functions) : settings.memory_size >= 128 && settings.memory_size <= 10240])
    error_message = "Each function's memory_size must be between 128 and 10240 MB."
  }

  validation {
    condition     = alltrue([for settings in values(var.functions) : settings.timeout >= 1 && settings.timeout <= 900])
    error_message = "Each function's timeout must be between 1 and 900 seconds."
  }

  validation {
    condition     = alltrue([for settings in values(var.functions) : settings.reserved_concurrency == null || try(settings.reserved_concurrency >= 0, false)])
    error_message = "Each function's reserved_concurrency must be null or at least 0."
  }
}

variable "artifacts_dir" {
  description = "Directory holding the prebuilt Lambda zips, named <function>-<arm64|x64>.zip (e.g. validate-arm64.zip)."
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

variable "upload_bucket_arn" {
  description = "ARN of the upload bucket (read by validate, resize, filter, optimize)."
  type        = string
}

variable "upload_key_prefix" {
  description = "The functions read only upload keys starting with this prefix (the trigger's key_prefix): in an upload bucket shared with other uses, nothing else. Empty: every key."
  type        = string
  default     = ""

  validation {
    condition     = !can(regex("[*?]", var.upload_key_prefix))
    error_message = "upload_key_prefix must not contain * or ?: IAM reads them as wildcards in the resource ARN."
  }
}

variable "output_bucket_name" {
  description = "Name of the output bucket (IMGFLOW_OUTPUT_BUCKET)."
  type        = string
}

variable "output_bucket_arn" {
  description = "ARN of the output bucket."
  type        = string
}

variable "output_prefix" {
  description = "Prefix of the finished renditions in the output bucket (IMGFLOW_OUTPUT_PREFIX). null: the workflow contract's default (contract.json config.output_prefix)."
  type        = string
  default     = null

  validation {
    condition     = var.output_prefix == null || try(can(regex("^([a-z0-9][a-z0-9_-]*/)+$", var.output_prefix)), false)
    error_message = "output_prefix must be one or more lowercase path segments, each ending in '/', e.g. \"renditions/\"."
  }
}

variable "work_prefix" {
  description = "Prefix of the intermediate bundles in the output bucket (IMGFLOW_WORK_PREFIX). Must not overlap output_prefix or assets_prefix. null: the workflow contract's default (contract.json config.work_prefix)."
  type        = string
  default     = null

  validation {
    condition     = var.work_prefix == null || try(can(regex("^([a-z0-9][a-z0-9_-]*/)+$", var.work_prefix)), false)
    error_message = "work_prefix must be one or more lowercase path segments, each ending in '/', e.g. \"work/\"."
  }
}

variable "assets_prefix" {
  description = "Prefix of the recipe assets (watermark images) in the output bucket (IMGFLOW_ASSETS_PREFIX). null: the workflow contract's default (contract.json config.assets_prefix)."
  type        = string
  default     = null

  validation {
    condition     = var.assets_prefix == null || try(can(regex("^([a-z0-9][a-z0-9_-]*/)+$", var.assets_prefix)), false)
    error_message = "assets_prefix must be one or more lowercase path segments, each ending in '/', e.g. \"assets/\"."
  }
}

variable "jobs_table_name" {
  description = "Name of the job ledger table (IMGFLOW_JOBS_TABLE)."
  type        = string
}

variable "jobs_table_arn" {
  description = "ARN of the job ledger table."
  type        = string
}

variable "success_topic_arn" {
  description = "ARN of the success topic (IMGFLOW_SUCCESS_TOPIC_ARN)."
  type        = string
}

variable "error_topic_arn" {
  description = "ARN of the error topic (IMGFLOW_ERROR_TOPIC_ARN)."
  type        = string
}

variable "recipe_json" {
  description = "The recipe as JSON (IMGFLOW_RECIPE). null: the functions' built-in default recipe."
  type        = string
  default     = null

  validation {
    condition     = var.recipe_json == null || can(jsondecode(var.recipe_json))
    error_message = "recipe_json must be null or a JSON document."
  }
}

variable "limits_json" {
  description = "Image limits as JSON (IMGFLOW_LIMITS), merged over the built-in limits."
  type        = string
  default     = "{}"

  validation {
    condition     = can(jsondecode(var.limits_json))
    error_message = "limits_json must be a JSON document."
  }
}

variable "lease_seconds" {
  description = "How long a PENDING/PROCESSING claim holds off another run of the same upload (IMGFLOW_LEASE_SECONDS). Keep it above the workflow's longest run. null: the workflow contract's default (contract.json config.lease_seconds)."
  type        = number
  default     = null

  validation {
    condition     = var.lease_seconds == null || try(var.lease_seconds >= 1 && floor(var.lease_seconds) == var.lease_seconds, false)
    error_message = "lease_seconds must be a whole number of seconds, at least 1."
  }
}

variable "cache_control" {
  description = "Cache-Control set on the outputs (IMGFLOW_CACHE_CONTROL). Their keys change with the recipe, so they are immutable. null: the workflow contract's default (contract.json config.cache_control)."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups, in days (0: never expire)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs allows: 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the functions: PassThrough (trace only when the caller sampled) or Active."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be \"PassThrough\" or \"Active\"."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key the buckets, table or topics use, if any: the functions get kms:Decrypt and kms:GenerateDataKey on it. null: no KMS permissions."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags applied to every resource that supports them."
  type        = map(string)
  default     = {}
}

variable "role_path" {
  description = "Path of the IAM roles this module creates (e.g. \"/imgflow/\"), for an account whose IAM conventions require one."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path)) && length(var.role_path) <= 512
    error_message = "role_path must start and end with '/' (e.g. \"/\" or \"/imgflow/\"), at most 512 characters."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of the managed policy set as permissions boundary on every role this module creates. null: no boundary."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary))
    error_message = "role_permissions_boundary must be null or an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "extra_policy_statements" {
  description = "Statements added to a function's role policy, by step (validate, resize, filter, optimize, notify), e.g. kms:Decrypt on the key of an existing upload bucket. effect defaults to Allow; an Allow may not use \"*\" or \"<service>:*\" actions. Ignored for a function in existing_role_arns."
  type = map(list(object({
    sid       = optional(string)
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  })))
  default = {}

  validation {
    condition     = length(setsubtract(keys(var.extra_policy_statements), ["validate", "resize", "filter", "optimize", "notify"])) == 0
    error_message = "extra_policy_statements keys must be among validate, resize, filter, optimize, notify."
  }

  validation {
    condition = alltrue(flatten([
      for statements in values(var.extra_policy_statements) : [
        for statement in statements : contains(["Allow", "Deny"], statement.effect) && length(statement.actions) > 0 && length(statement.resources) > 0 && (statement.sid == null || can(regex("^[A-Za-z0-9]+$", statement.sid)))
      ]
    ]))
    error_message = "Each extra statement needs effect Allow or Deny, at least one action and one resource, and an alphanumeric sid (or none)."
  }

  validation {
    condition = alltrue(flatten([
      for statements in values(var.extra_policy_statements) : [
        for statement in statements : [
          for action in statement.actions : statement.effect == "Deny" ? can(regex("^(\\*|[a-z0-9-]+:[A-Za-z0-9*]+)$", action)) : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+[A-Za-z0-9*]*$", action))
        ]
      ]
    ]))
    error_message = "Each extra action must look like \"<service>:<Action>\" (a trailing * is allowed, e.g. \"s3:Get*\"); an Allow may not grant \"*\" or \"<service>:*\" (least privilege: list the actions)."
  }
}

variable "existing_role_arns" {
  description = "Execution roles to use instead of creating them, by step (validate, resize, filter, optimize, notify), for accounts where a central IAM process owns roles. Give each the policy in the role_policy_json output and a trust policy for lambda.amazonaws.com. Unlisted steps get a role created here."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.existing_role_arns), ["validate", "resize", "filter", "optimize", "notify"])) == 0
    error_message = "existing_role_arns keys must be among validate, resize, filter, optimize, notify."
  }

  validation {
    condition     = alltrue([for arn in values(var.existing_role_arns) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "Each existing role ARN must be an IAM role ARN (arn:aws:iam::<account>:role/<path><name>)."
  }
}
