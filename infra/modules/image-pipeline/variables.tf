variable "name" {
  description = "Name of the deployment; prefixes every resource (e.g. \"imgflow-dev\"). Lowercase letters, digits and hyphens."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name))
    error_message = "name must be 3-24 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "architecture" {
  description = "Instruction set of the functions: arm64 (cheaper per GB-second) or x86_64. Selects the <function>-<arm64|x64>.zip artifacts."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "workflow_type" {
  description = "Step Functions workflow type: EXPRESS (a job takes seconds, is idempotent through the ledger, and Express bills per request instead of per state transition, about 4x cheaper per image) or STANDARD (exactly-once executions, up to a year, full history in the console). null: the workflow contract's default (EXPRESS)."
  type        = string
  default     = null

  validation {
    condition     = var.workflow_type == null || contains(["STANDARD", "EXPRESS"], coalesce(var.workflow_type, "EXPRESS"))
    error_message = "workflow_type must be \"STANDARD\", \"EXPRESS\" or null (the contract's default)."
  }
}

variable "recipe_json" {
  description = "The recipe as JSON (IMGFLOW_RECIPE): renditions, formats, filters. null: the functions' built-in default recipe (DEFAULT_RECIPE in packages/image-core), which is then not copied into the environment."
  type        = string
  default     = null

  validation {
    condition     = var.recipe_json == null || can(jsondecode(var.recipe_json).renditions)
    error_message = "recipe_json must be null or a JSON recipe with a renditions list."
  }
}

variable "retry" {
  description = "Retry policy of every working Task of the workflow (backoff with full jitter). Unset fields take the workflow contract's values (1 s, 3 attempts, rate 2, at most 30 s)."
  type = object({
    interval_seconds  = optional(number)
    max_attempts      = optional(number)
    backoff_rate      = optional(number)
    max_delay_seconds = optional(number)
  })
  default = {}
}

variable "workflow_log_level" {
  description = "Execution log level of the state machine: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.workflow_log_level)
    error_message = "workflow_log_level must be one of ALL, ERROR, FATAL, OFF."
  }
}

variable "include_execution_data" {
  description = "Include state input and output in the execution logs. Off by default: they carry object keys and job facts."
  type        = bool
  default     = false
}

variable "limits_json" {
  description = "Image limits as JSON (IMGFLOW_LIMITS), merged over the built-in limits. \"{}\": the built-in limits."
  type        = string
  default     = "{}"

  validation {
    condition     = can(jsondecode(var.limits_json))
    error_message = "limits_json must be a JSON document."
  }
}

variable "artifacts_dir" {
  description = "Directory holding the prebuilt Lambda zips: validate, resize, filter, optimize, notify, each as <function>-<arm64|x64>.zip."
  type        = string
}

variable "functions" {
  description = "Per-function overrides of memory_size (MB), timeout (s), reserved_concurrency and extra environment, by step (validate, resize, filter, optimize, notify). Unset fields keep the defaults."
  type = map(object({
    memory_size          = optional(number)
    timeout              = optional(number)
    reserved_concurrency = optional(number)
    environment          = optional(map(string), {})
  }))
  default = {}

  validation {
    condition     = length(setsubtract(keys(var.functions), ["validate", "resize", "filter", "optimize", "notify"])) == 0
    error_message = "functions keys must be among validate, resize, filter, optimize, notify."
  }
}

variable "subscriptions" {
  description = "Subscriptions to the success and error topics: { topic = success|error, protocol = email|sqs|https|lambda, endpoint, filter_policy (optional JSON) }."
  type = list(object({
    topic         = string
    protocol      = string
    endpoint      = string
    filter_policy = optional(string)
  }))
  default = []
}

variable "alarm_topic_arn" {
  description = "SNS topic ARN the alarms notify. null: alarms without actions."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the function and execution log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs allows: 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "key_prefix" {
  description = "Only upload keys starting with this prefix start a workflow, and the functions may read only those. Empty: every key."
  type        = string
  default     = ""

  validation {
    condition     = !can(regex("[*?]", var.key_prefix))
    error_message = "key_prefix must not contain * or ?: the functions' read access is granted on <bucket>/<key_prefix>*, where IAM reads them as wildcards."
  }
}

variable "key_suffixes" {
  description = "Only upload keys ending in one of these suffixes start a workflow (case-sensitive). Empty: every key."
  type        = list(string)
  default     = []
}

variable "tracing_enabled" {
  description = "Trace the workflow and the functions with X-Ray (Active tracing)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the buckets, the table and the topics. null: SSE-S3, the AWS managed DynamoDB key and alias/aws/sns. The key policy must let S3, DynamoDB, SNS and the function roles use it."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Protect the job ledger table from deletion."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets. Keep false outside throwaway environments."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every resource that supports them."
  type        = map(string)
  default     = {}
}

variable "output_prefix" {
  description = "Prefix of the finished renditions in the output bucket (IMGFLOW_OUTPUT_PREFIX). output_prefix, work_prefix and assets_prefix must not overlap: the plan fails if one starts with another. null: the workflow contract's default (contract.json config.output_prefix)."
  type        = string
  default     = null

  validation {
    condition     = var.output_prefix == null || try(can(regex("^([a-z0-9][a-z0-9_-]*/)+$", var.output_prefix)), false)
    error_message = "output_prefix must be one or more lowercase path segments, each ending in '/', e.g. \"renditions/\"."
  }
}

variable "work_prefix" {
  description = "Prefix of the intermediate bundles in the output bucket (IMGFLOW_WORK_PREFIX); they expire after a day. Must not overlap output_prefix or assets_prefix. null: the workflow contract's default (contract.json config.work_prefix)."
  type        = string
  default     = null

  validation {
    condition     = var.work_prefix == null || try(can(regex("^([a-z0-9][a-z0-9_-]*/)+$", var.work_prefix)), false)
    error_message = "work_prefix must be one or more lowercase path segments, each ending in '/', e.g. \"work/\"."
  }
}

variable "assets_prefix" {
  description = "Prefix of the recipe assets (watermark images) in the output bucket (IMGFLOW_ASSETS_PREFIX). Must not overlap output_prefix or work_prefix. null: the workflow contract's default (contract.json config.assets_prefix)."
  type        = string
  default     = null

  validation {
    condition     = var.assets_prefix == null || try(can(regex("^([a-z0-9][a-z0-9_-]*/)+$", var.assets_prefix)), false)
    error_message = "assets_prefix must be one or more lowercase path segments, each ending in '/', e.g. \"assets/\"."
  }
}

variable "create_upload_bucket" {
  description = "Create the upload bucket. false: take uploads from the existing bucket upload_bucket_name (same account and region), whose versioning, encryption, policy and lifecycle stay with its owner; it must send its events to EventBridge (see manage_upload_bucket_notification)."
  type        = bool
  default     = true
}

variable "upload_bucket_name" {
  description = "Name of the upload bucket. With create_upload_bucket = false, required: the existing bucket. Otherwise the name of the bucket to create; null: <name>-uploads-<account id>-<region>."
  type        = string
  default     = null

  validation {
    condition     = var.upload_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.upload_bucket_name))
    error_message = "upload_bucket_name must be null or a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "manage_upload_bucket_notification" {
  description = "With create_upload_bucket = false: turn on the existing bucket's EventBridge notifications from here. This writes the bucket's whole notification configuration, so set false when the bucket has notifications of its own (SNS, SQS, Lambda) and turn EventBridge on where they are managed. A created bucket always gets EventBridge on."
  type        = bool
  default     = true
}

variable "role_path" {
  description = "Path of every IAM role the pipeline creates (e.g. \"/imgflow/\"), for an account whose IAM conventions require one."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path)) && length(var.role_path) <= 512
    error_message = "role_path must start and end with '/' (e.g. \"/\" or \"/imgflow/\"), at most 512 characters."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of the managed policy set as permissions boundary on every IAM role the pipeline creates. null: no boundary."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary))
    error_message = "role_permissions_boundary must be null or an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "extra_policy_statements" {
  description = "Statements added to a role's policy, by role: validate, resize, filter, optimize, notify (the functions), workflow (the state machine), trigger (EventBridge), sweep (the sweeper), backfill (the backfill state machine). E.g. kms:Decrypt on the key of an existing upload bucket for the functions that read uploads. effect defaults to Allow; an Allow may not use \"*\" or \"<service>:*\" actions. Ignored for roles in existing_role_arns."
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
    condition     = length(setsubtract(keys(var.extra_policy_statements), ["validate", "resize", "filter", "optimize", "notify", "workflow", "trigger", "sweep", "backfill"])) == 0
    error_message = "extra_policy_statements keys must be among validate, resize, filter, optimize, notify, workflow, trigger, sweep, backfill."
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
  description = "Roles to use instead of creating them, by role: validate, resize, filter, optimize, notify (trust lambda.amazonaws.com), workflow (states.amazonaws.com), trigger (events.amazonaws.com), sweep (lambda.amazonaws.com), backfill (states.amazonaws.com). For accounts where a central IAM process owns roles: give each the policy from the role_policy_json output. Unlisted roles are created here."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.existing_role_arns), ["validate", "resize", "filter", "optimize", "notify", "workflow", "trigger", "sweep", "backfill"])) == 0
    error_message = "existing_role_arns keys must be among validate, resize, filter, optimize, notify, workflow, trigger, sweep, backfill."
  }

  validation {
    condition     = alltrue([for arn in values(var.existing_role_arns) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "Each existing role ARN must be an IAM role ARN (arn:aws:iam::<account>:role/<path><name>)."
  }
}

variable "sweeper_enabled" {
  description = "Deploy the sweeper (module sweeper): on a schedule it ends the jobs whose execution died without recording an outcome (an Express execution past its 5 minutes) FAILED, removes their work objects and publishes job.failed, and sends the notifications finished jobs never got. Needs sweep-<arch>.zip in artifacts_dir."
  type        = bool
  default     = true
}

variable "sweeper_schedule_expression" {
  description = "How often the sweeper runs (EventBridge schedule expression, rate(...) or cron(...)). null: the workflow contract's default (contract.json sweeper.schedule, rate(5 minutes))."
  type        = string
  default     = null

  validation {
    condition     = var.sweeper_schedule_expression == null || try(can(regex("^(rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)|cron\\(\\S+( \\S+){5}\\))$", var.sweeper_schedule_expression)), false)
    error_message = "sweeper_schedule_expression must be null, rate(<n> <unit>) (e.g. rate(1 minute), rate(5 minutes)) or cron(<6 fields>)."
  }
}

variable "backfill_enabled" {
  description = "Deploy the backfill (module backfill): a STANDARD state machine <name>-backfill whose Distributed Map lists the upload bucket and runs the image workflow's states once per existing object, for adopting a bucket that already holds images. Idle it costs nothing (no executions, no schedule), and its role may only list the upload prefix, start its own child executions, invoke the five functions and write reports under backfill_report_prefix."
  type        = bool
  default     = true
}

variable "backfill_max_concurrency" {
  description = "How many objects a backfill processes at once (the Distributed Map's MaxConcurrency). Each takes up to two concurrent function invocations (resize and filter run in parallel) from the account's Lambda concurrency, which live uploads share. null: the contract's backfill.max_concurrency (100)."
  type        = number
  default     = null

  validation {
    condition     = var.backfill_max_concurrency == null ? true : (var.backfill_max_concurrency >= 1 && var.backfill_max_concurrency <= 10000 && floor(var.backfill_max_concurrency) == var.backfill_max_concurrency)
    error_message = "backfill_max_concurrency must be a whole number between 1 and 10000 (the Distributed Map's limit)."
  }
}

variable "backfill_tolerated_failure_percentage" {
  description = "Percentage of a backfill's objects whose execution may fail before the map run fails and stops. Rejected images are not failures (their executions succeed); failed jobs are. null: the contract's backfill.tolerated_failure_percentage (5)."
  type        = number
  default     = null

  validation {
    condition     = var.backfill_tolerated_failure_percentage == null ? true : (var.backfill_tolerated_failure_percentage >= 0 && var.backfill_tolerated_failure_percentage <= 100)
    error_message = "backfill_tolerated_failure_percentage must be between 0 and 100."
  }
}

variable "backfill_report_prefix" {
  description = "Prefix in the output bucket where each backfill writes its report (<prefix><map run id>/manifest.json and result files). Must not overlap output_prefix, work_prefix or assets_prefix. null: the contract's backfill.report_prefix (\"backfill-reports/\")."
  type        = string
  default     = null

  validation {
    condition     = var.backfill_report_prefix == null ? true : (can(regex("^([a-z0-9][a-z0-9_-]*/)+$", var.backfill_report_prefix)))
    error_message = "backfill_report_prefix must be one or more lowercase path segments, each ending in '/', e.g. \"backfill-reports/\"."
  }
}
