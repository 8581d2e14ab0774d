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

variable "oncall_email" {
  description = "Address subscribed to the error topic (it must confirm the subscription)."
  type        = string
  default     = "oncall@example.com"
}

variable "brand_assets_bucket" {
  description = "Bucket holding the brand team's watermark images under watermarks/ (read by the filter function)."
  type        = string
  default     = "acme-brand-assets"
}
