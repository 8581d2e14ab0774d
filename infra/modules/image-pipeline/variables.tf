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
  description = "Step Functions workflow type: EXPRESS (default: a job takes seconds, is idempotent through the ledger, and Express bills per request instead of per state transition, about 4x cheaper per image) or STANDARD (exactly-once executions, up to a year, full history in the console)."
  type        = string
  default     = "EXPRESS"

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.workflow_type)
    error_message = "workflow_type must be \"STANDARD\" or \"EXPRESS\"."
  }
}

variable "recipe_json" {
  description = "The recipe as JSON (IMGFLOW_RECIPE): renditions, formats, filters. The default is imgflow's default recipe."
  type        = string
  default     = "{\"version\":\"1\",\"renditions\":[{\"name\":\"sm\",\"width\":320},{\"name\":\"md\",\"width\":1024},{\"name\":\"lg\",\"width\":2048}],\"formats\":[\"avif\",\"webp\",\"jpeg\"]}"

  validation {
    condition     = can(jsondecode(var.recipe_json).renditions)
    error_message = "recipe_json must be a JSON recipe with a renditions list."
  }
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
  description = "Only upload keys starting with this prefix start a workflow. Empty: every key."
  type        = string
  default     = ""
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
