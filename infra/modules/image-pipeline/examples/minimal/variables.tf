variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "artifacts_dir" {
  description = "Directory with the Lambda zips (<function>-<arm64|x64>.zip), as `make package` writes them; relative to this folder."
  type        = string
  default     = "../../../../../dist/artifacts"
}
