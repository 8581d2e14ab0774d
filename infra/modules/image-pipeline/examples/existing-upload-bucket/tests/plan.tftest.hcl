# `terraform test` with a mocked AWS provider: the example plans without an AWS account.
# Needs the zips: point artifacts_dir at a folder holding <function>-<arch>.zip
# (infra/tests/terraform.test.ts makes one and sets TF_VAR_artifacts_dir).

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  # The existing bucket, as the provider would read it.
  mock_data "aws_s3_bucket" {
    defaults = { id = "acme-photos-uploads", arn = "arn:aws:s3:::acme-photos-uploads", region = "eu-west-1" }
  }
}

run "takes_the_existing_bucket_events" {
  command = plan

  assert {
    condition     = module.image_pipeline.upload_bucket == "acme-photos-uploads" && module.image_pipeline.upload_bucket_arn == "arn:aws:s3:::acme-photos-uploads"
    error_message = "the existing bucket is the upload bucket"
  }

  assert {
    condition     = module.image_pipeline.event_rule_name == "photos-prod-upload"
    error_message = "the rule that starts the workflow is planned"
  }
}

run "leaves_the_bucket_notifications_to_their_owner" {
  command = plan

  variables {
    manage_upload_bucket_notification = false
    upload_bucket_kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = module.image_pipeline.upload_bucket == "acme-photos-uploads"
    error_message = "the existing bucket is still the upload bucket"
  }
}
