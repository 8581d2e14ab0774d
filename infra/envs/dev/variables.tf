variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "name" {
  description = "Name of the deployment; prefixes every resource."
  type        = string
  default     = "imgflow-dev"
}

variable "artifacts_dir" {
  description = "Directory with the Lambda zips (<function>-<arm64|x64>.zip), relative to this folder."
  type        = string
  default     = "../../../dist/artifacts"
}

variable "architecture" {
  description = "Instruction set of the functions: arm64 or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "workflow_type" {
  description = "Step Functions workflow type: EXPRESS or STANDARD (see the image-pipeline module). null: the workflow contract's default (EXPRESS)."
  type        = string
  default     = null

  validation {
    condition     = var.workflow_type == null || contains(["STANDARD", "EXPRESS"], coalesce(var.workflow_type, "EXPRESS"))
    error_message = "workflow_type must be \"STANDARD\", \"EXPRESS\" or null (the contract's default)."
  }
}

variable "subscriptions" {
  description = "Subscriptions to the success and error topics (see the image-pipeline module)."
  type = list(object({
    topic         = string
    protocol      = string
    endpoint      = string
    filter_policy = optional(string)
  }))
  default = []
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify. null: alarms without actions."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource (through the provider's default_tags)."
  type        = map(string)
  default = {
    project     = "imgflow"
    environment = "dev"
  }
}
