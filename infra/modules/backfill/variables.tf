variable "name" {
  description = "Name of the deployment: the state machine is <name>-backfill, its role <name>-backfill-<region>, its log group /aws/vendedlogs/states/<name>-backfill."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,55}$", var.name))
    error_message = "name must be 1-55 letters, digits, '_' or '-' (the state machine name <name>-backfill may have 64)."
  }
}

variable "workflow_definition" {
  description = "The image workflow's rendered ASL definition (the workflow module's definition output). Its StartAt and States become the Distributed Map's item processor as they are: the backfill runs the same states as an upload, never a copy of them."
  type        = string

  validation {
    condition     = can(jsondecode(var.workflow_definition).StartAt) && can(keys(jsondecode(var.workflow_definition).States))
    error_message = "workflow_definition must be an ASL definition (JSON with StartAt and States)."
  }
}

variable "execution_type" {
  description = "Type of the child executions (one per object): the image workflow's type (the workflow module's type output), so each object runs under the same time limit the workflow module checked its worst case against. The backfill state machine itself is always STANDARD (a Distributed Map runs only there)."
  type        = string

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.execution_type)
    error_message = "execution_type must be \"STANDARD\" or \"EXPRESS\"."
  }
}

variable "function_arns" {
  description = "Unqualified ARNs of the workflow's functions, by step (validate, resize, filter, optimize, notify): what the role may invoke. The plan fails unless they are exactly the functions workflow_definition invokes."
  type        = map(string)

  validation {
    condition     = alltrue([for arn in values(var.function_arns) : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", arn))])
    error_message = "Each function ARN must be an unqualified Lambda function ARN."
  }
}

variable "upload_bucket_name" {
  description = "Name of the upload bucket: the bucket the backfill lists."
  type        = string
}

variable "upload_bucket_arn" {
  description = "ARN of the upload bucket: the one bucket the role may list."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.upload_bucket_arn))
    error_message = "upload_bucket_arn must be an S3 bucket ARN (arn:aws:s3:::<bucket>)."
  }
}

variable "upload_key_prefix" {
  description = "The upload keys the pipeline processes (image-pipeline's key_prefix): the default prefix of a backfill, and the only keys its role may list. Empty: every key."
  type        = string
  default     = ""

  validation {
    condition     = !can(regex("[*?]", var.upload_key_prefix))
    error_message = "upload_key_prefix must not contain * or ?: the role's listing is granted on s3:prefix <upload_key_prefix>*, where IAM reads them as wildcards."
  }
}

variable "report_bucket_name" {
  description = "Name of the bucket the Distributed Map writes its report to (the output bucket)."
  type        = string
}

variable "report_bucket_arn" {
  description = "ARN of report_bucket_name."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.report_bucket_arn))
    error_message = "report_bucket_arn must be an S3 bucket ARN (arn:aws:s3:::<bucket>)."
  }
}

variable "report_prefix" {
  description = "Prefix of the backfill reports in the report bucket: each map run writes <prefix><map run id>/manifest.json and its SUCCEEDED_n.json / FAILED_n.json / PENDING_n.json result files there. Must not overlap the pipeline's other prefixes of that bucket. null: the contract's backfill.report_prefix (\"backfill-reports/\")."
  type        = string
  default     = null

  validation {
    condition     = var.report_prefix == null ? true : (can(regex("^([a-z0-9][a-z0-9_-]*/)+$", var.report_prefix)))
    error_message = "report_prefix must be one or more lowercase path segments, each ending in '/', e.g. \"backfill-reports/\"."
  }
}

variable "max_concurrency" {
  description = "How many child executions (objects) run at once. Each holds at most two function invocations at a time (resize and filter run in parallel), so the backfill takes at most twice this from the account's Lambda concurrency, which live uploads share. null: the contract's backfill.max_concurrency (100)."
  type        = number
  default     = null

  validation {
    condition     = var.max_concurrency == null ? true : (var.max_concurrency >= 1 && var.max_concurrency <= 10000 && floor(var.max_concurrency) == var.max_concurrency)
    error_message = "max_concurrency must be a whole number between 1 and 10000 (the Distributed Map's limit)."
  }
}

variable "tolerated_failure_percentage" {
  description = "Percentage of child executions that may fail before the map run fails (and stops starting new ones). A rejected image is not a failure (its execution succeeds); a failed one is, so failures past a few percent mean something systemic (throttling, a permission, a bad recipe), not bad files. null: the contract's backfill.tolerated_failure_percentage (5)."
  type        = number
  default     = null

  validation {
    condition     = var.tolerated_failure_percentage == null ? true : (var.tolerated_failure_percentage >= 0 && var.tolerated_failure_percentage <= 100)
    error_message = "tolerated_failure_percentage must be between 0 and 100."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key of the report bucket (SSE-KMS). null: SSE-S3, no KMS permission."
  type        = string
  default     = null
}

variable "log_level" {
  description = "Execution log level of the backfill state machine: ALL, ERROR, FATAL or OFF."
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
  description = "Statements added to the backfill role's policy (e.g. kms:Decrypt for a bucket key the module does not know). effect defaults to Allow; an Allow may not use \"*\" or \"<service>:*\" actions. Ignored with create_role = false."
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
  description = "Create the backfill state machine's role here. false: use existing_role_arn instead, for accounts where a central IAM process owns roles."
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
