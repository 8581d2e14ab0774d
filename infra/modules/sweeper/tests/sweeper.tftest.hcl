# The sweeper planned without an AWS account. The plain provider below renders
# aws_iam_policy_document itself, so the assertions read the real policy JSON (a mocked document
# would prove nothing about it); it gets fake credentials with every start-up check skipped, and
# the managed resources are overridden with the ARNs AWS would give them, so the documents that
# reference them are known at plan. Needs the zip: artifacts_dir must hold sweep-<arch>.zip
# (infra/tests/terraform.test.ts makes one and sets TF_VAR_artifacts_dir).

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_resource {
  target = aws_cloudwatch_log_group.this
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/imgflow-test-sweep" }
}

override_resource {
  target = aws_cloudwatch_event_rule.schedule
  values = { arn = "arn:aws:events:eu-west-1:123456789012:rule/imgflow-test-sweep" }
}

override_resource {
  target = aws_sqs_queue.dead_letter
  values = { arn = "arn:aws:sqs:eu-west-1:123456789012:imgflow-test-sweep-dlq", id = "https://sqs.eu-west-1.amazonaws.com/123456789012/imgflow-test-sweep-dlq" }
}

override_resource {
  target = aws_iam_role.this
  values = { arn = "arn:aws:iam::123456789012:role/imgflow-test-sweep-eu-west-1", id = "imgflow-test-sweep-eu-west-1" }
}

override_resource {
  target = aws_lambda_function.this
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-sweep" }
}

# The rest have no attribute the assertions need; overridden so that an apply calls no AWS API.
override_resource {
  target = aws_iam_role_policy.this
}

override_resource {
  target = aws_sqs_queue_policy.dead_letter
}

override_resource {
  target = aws_lambda_function_event_invoke_config.this
}

override_resource {
  target = aws_cloudwatch_event_target.schedule
}

override_resource {
  target = aws_lambda_permission.schedule
}

override_resource {
  target = aws_cloudwatch_log_metric_filter.errors
}

variables {
  name               = "imgflow-test"
  output_bucket_name = "imgflow-test-outputs"
  output_bucket_arn  = "arn:aws:s3:::imgflow-test-outputs"
  jobs_table_name    = "imgflow-test-jobs"
  jobs_table_arn     = "arn:aws:dynamodb:eu-west-1:123456789012:table/imgflow-test-jobs"
  status_index_arn   = "arn:aws:dynamodb:eu-west-1:123456789012:table/imgflow-test-jobs/index/byStatus"
  success_topic_arn  = "arn:aws:sns:eu-west-1:123456789012:imgflow-test-success"
  error_topic_arn    = "arn:aws:sns:eu-west-1:123456789012:imgflow-test-error"
}

run "counts_the_sweepers_error_log_lines" {
  command = plan

  assert {
    condition     = aws_cloudwatch_log_metric_filter.errors.pattern == "{ $.level = \"ERROR\" }" && aws_cloudwatch_log_metric_filter.errors.metric_transformation[0].name == "SweepErrors"
    error_message = "The sweeper's ERROR log lines (jobs a run could not end or notify) must be counted as a metric."
  }
}

run "schedules_the_sweeper_from_the_contract" {
  command = plan

  assert {
    condition     = aws_cloudwatch_event_rule.schedule.schedule_expression == jsondecode(file("${path.module}/../workflow/contract.json")).sweeper.schedule
    error_message = "the rule runs on the contract's schedule by default"
  }

  assert {
    condition     = aws_lambda_function.this.function_name == "imgflow-test-sweep" && aws_lambda_function.this.memory_size == 256 && aws_lambda_function.this.timeout == 60
    error_message = "the function is <name>-sweep with the contract's memory and timeout"
  }

  assert {
    condition     = endswith(aws_lambda_function.this.filename, "/sweep-arm64.zip") && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "the function runs the release's sweep zip for its architecture"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.IMGFLOW_WORK_PREFIX == "work/" && aws_lambda_function.this.environment[0].variables.IMGFLOW_LEASE_SECONDS == "900" && aws_lambda_function.this.environment[0].variables.IMGFLOW_JOBS_TABLE == "imgflow-test-jobs"
    error_message = "the function reads the same IMGFLOW_* settings as the steps"
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 0
    error_message = "a failed sweep is not retried by Lambda: the next scheduled run is the retry"
  }

  assert {
    condition     = aws_cloudwatch_event_target.schedule.retry_policy[0].maximum_retry_attempts == 3 && aws_cloudwatch_event_target.schedule.retry_policy[0].maximum_event_age_in_seconds == 3600
    error_message = "the target retries invoking the sweeper"
  }

  assert {
    condition     = aws_sqs_queue.dead_letter.name == "imgflow-test-sweep-dlq" && aws_sqs_queue.dead_letter.sqs_managed_sse_enabled == true
    error_message = "undeliverable scheduled events go to an encrypted dead-letter queue"
  }

  assert {
    condition     = aws_lambda_permission.schedule.principal == "events.amazonaws.com" && aws_lambda_permission.schedule.action == "lambda:InvokeFunction"
    error_message = "EventBridge may invoke the sweeper"
  }

  assert {
    condition     = aws_iam_role.this[0].name == "imgflow-test-sweep-eu-west-1"
    error_message = "the role name carries the region: IAM is global"
  }
}

# An apply against the overrides: nothing is created, and the documents render with the ARNs above.
run "grants_exactly_what_the_sweeper_does" {
  command = apply

  assert {
    condition = jsondecode(output.role_policy_json).Statement == [
      { Sid = "WriteOwnLogs", Effect = "Allow", Action = ["logs:PutLogEvents", "logs:CreateLogStream"], Resource = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/imgflow-test-sweep:*" },
      { Sid = "ListJobsByStatus", Effect = "Allow", Action = "dynamodb:Query", Resource = "arn:aws:dynamodb:eu-west-1:123456789012:table/imgflow-test-jobs/index/byStatus" },
      { Sid = "ReadAndEndJobs", Effect = "Allow", Action = ["dynamodb:UpdateItem", "dynamodb:BatchGetItem"], Resource = "arn:aws:dynamodb:eu-west-1:123456789012:table/imgflow-test-jobs" },
      { Sid = "DeleteWorkObjects", Effect = "Allow", Action = "s3:DeleteObject", Resource = "arn:aws:s3:::imgflow-test-outputs/work/*" },
      { Sid = "PublishNotifications", Effect = "Allow", Action = "sns:Publish", Resource = ["arn:aws:sns:eu-west-1:123456789012:imgflow-test-success", "arn:aws:sns:eu-west-1:123456789012:imgflow-test-error"] },
    ]
    error_message = "the sweeper's role grants exactly: its logs, Query on byStatus, BatchGetItem/UpdateItem on the table, DeleteObject under the work prefix, Publish to the two topics"
  }

  assert {
    condition = jsondecode(data.aws_iam_policy_document.dead_letter.json).Statement == [
      {
        Sid       = "EventBridgeDeadLetters"
        Effect    = "Allow"
        Action    = "sqs:SendMessage"
        Resource  = "arn:aws:sqs:eu-west-1:123456789012:imgflow-test-sweep-dlq"
        Principal = { Service = "events.amazonaws.com" }
        Condition = { ArnEquals = { "aws:SourceArn" = "arn:aws:events:eu-west-1:123456789012:rule/imgflow-test-sweep" } }
      },
    ]
    error_message = "only the sweeper's rule may send to its dead-letter queue"
  }

  assert {
    condition     = aws_lambda_permission.schedule.source_arn == "arn:aws:events:eu-west-1:123456789012:rule/imgflow-test-sweep"
    error_message = "only the sweeper's rule may invoke it"
  }

  assert {
    condition     = aws_cloudwatch_event_target.schedule.dead_letter_config[0].arn == "arn:aws:sqs:eu-west-1:123456789012:imgflow-test-sweep-dlq" && aws_cloudwatch_event_target.schedule.arn == "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-sweep"
    error_message = "the rule targets the sweeper, with the dead-letter queue"
  }
}

run "takes_a_schedule_and_refuses_a_malformed_one" {
  command = plan

  variables {
    schedule_expression = "rate(1 minute)"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.schedule.schedule_expression == "rate(1 minute)"
    error_message = "schedule_expression overrides the contract's"
  }
}

run "refuses_a_malformed_schedule" {
  command = plan

  variables {
    schedule_expression = "every 5 minutes"
  }

  expect_failures = [var.schedule_expression]
}

run "uses_an_existing_role" {
  command = plan

  variables {
    create_role       = false
    existing_role_arn = "arn:aws:iam::123456789012:role/central/imgflow-sweep"
  }

  assert {
    condition     = length(aws_iam_role.this) == 0 && length(aws_iam_role_policy.this) == 0 && aws_lambda_function.this.role == "arn:aws:iam::123456789012:role/central/imgflow-sweep"
    error_message = "with create_role = false the function runs with the existing role, and no role or policy is created"
  }
}

run "refuses_no_role_at_all" {
  command = plan

  variables {
    create_role = false
  }

  expect_failures = [data.aws_iam_policy_document.this]
}
