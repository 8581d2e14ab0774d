# `terraform test` with a mocked AWS provider: the buckets plan without an AWS account.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_s3_bucket" {
    defaults = { region = "eu-west-1", arn = "arn:aws:s3:::acme-photos", id = "acme-photos" }
  }
}

variables {
  upload_bucket_name = "imgflow-test-uploads-123456789012-eu-west-1"
  output_bucket_name = "imgflow-test-outputs-123456789012-eu-west-1"
}

run "creates_both_buckets_and_the_eventbridge_notification" {
  command = plan

  assert {
    condition     = toset(keys(aws_s3_bucket.this)) == toset(["upload", "output"]) && length(aws_s3_bucket_notification.upload) == 1
    error_message = "both buckets, and EventBridge on for the upload bucket"
  }

  assert {
    condition     = aws_s3_bucket_notification.upload[0].eventbridge && length(aws_s3_bucket_lifecycle_configuration.upload) == 1
    error_message = "the created upload bucket sends its events to EventBridge and has its lifecycle rules"
  }
}

run "uses_an_existing_upload_bucket" {
  command = plan

  variables {
    create_upload_bucket = false
    upload_bucket_name   = "acme-photos"
  }

  assert {
    condition     = toset(keys(aws_s3_bucket.this)) == toset(["output"]) && length(aws_s3_bucket_lifecycle_configuration.upload) == 0 && toset(keys(aws_s3_bucket_policy.this)) == toset(["output"])
    error_message = "only the output bucket (and its settings) is created next to an existing upload bucket"
  }

  assert {
    condition     = aws_s3_bucket_notification.upload[0].bucket == "acme-photos" && aws_s3_bucket_notification.upload[0].eventbridge
    error_message = "by default the existing bucket gets EventBridge notifications from here"
  }

  assert {
    condition     = output.upload_bucket_name == "acme-photos" && output.upload_bucket_arn == "arn:aws:s3:::acme-photos" && !output.upload_bucket_created
    error_message = "the outputs describe the existing bucket"
  }
}

run "leaves_an_existing_bucket_notification_alone" {
  command = plan

  variables {
    create_upload_bucket              = false
    upload_bucket_name                = "acme-photos"
    manage_upload_bucket_notification = false
  }

  assert {
    condition     = length(aws_s3_bucket_notification.upload) == 0
    error_message = "with manage_upload_bucket_notification = false the bucket's notification configuration is not touched"
  }
}

run "refuses_an_existing_bucket_in_another_region" {
  command = plan

  variables {
    create_upload_bucket = false
    upload_bucket_name   = "acme-photos"
  }

  override_data {
    target = data.aws_s3_bucket.upload[0]
    values = { region = "us-east-1", arn = "arn:aws:s3:::acme-photos", id = "acme-photos" }
  }

  expect_failures = [data.aws_s3_bucket.upload]
}
