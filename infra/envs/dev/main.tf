provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

# A development environment: deletable table, deletable buckets, short log retention.
module "image_pipeline" {
  source = "../../modules/image-pipeline"

  name          = var.name
  artifacts_dir = var.artifacts_dir
  architecture  = var.architecture
  workflow_type = var.workflow_type

  subscriptions   = var.subscriptions
  alarm_topic_arn = var.alarm_topic_arn

  log_retention_days  = 7
  deletion_protection = false
  force_destroy       = true
}
