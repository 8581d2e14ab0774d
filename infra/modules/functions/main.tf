data "aws_region" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  for_each = var.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# Roles are global: the region in the name lets the same name deploy in several regions.
resource "aws_iam_role" "this" {
  for_each = local.created_roles

  name                 = local.role_names[each.key]
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "imgflow ${each.key} function: exactly the AWS actions its code performs."
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json

  tags = var.tags

  lifecycle {
    # A renamed role is replaced without leaving the function without one.
    create_before_destroy = true

    precondition {
      condition     = length(local.role_names[each.key]) <= 64
      error_message = "The role name ${local.role_names[each.key]} is longer than the 64 characters IAM allows: shorten name, or bring the role (existing_role_arns)."
    }
  }
}

# What every function needs besides its own work: its log group, X-Ray when tracing is
# Active, the customer managed key when one is used; then the caller's extra statements.
data "aws_iam_policy_document" "common" {
  for_each = var.functions

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }

  dynamic "statement" {
    for_each = local.tracing_is_active ? ["xray"] : []

    content {
      sid       = "WriteTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = lookup(var.extra_policy_statements, each.key, [])

    content {
      sid       = statement.value.sid
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

# Every step that reads the upload (validate, resize, filter, optimize): GetObject, and the
# version the event names. S3 answers a GET of a missing key with 404 only to a caller that may
# list the bucket (with the key as s3:prefix), and with 403 to any other: without ListUploads a
# deleted upload would look like a denied one. Only the keys the functions read; not the work
# prefix (a missing bundle is not the upload's fault, and its 403 fails the job instead).
data "aws_iam_policy_document" "read_uploads" {
  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.upload_objects]
  }

  statement {
    sid       = "ListUploads"
    actions   = ["s3:ListBucket"]
    resources = [var.upload_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.upload_keys]
    }
  }
}

# ValidateImage: claims the job (UpdateItem, GetItem on a lost claim), reads the upload, claims
# its content (a content claim item in the same table: GetItem, conditional UpdateItem; no index)
# and, on a hit, copies earlier renditions server-side.
data "aws_iam_policy_document" "validate" {
  source_policy_documents = [data.aws_iam_policy_document.common["validate"].json, data.aws_iam_policy_document.read_uploads.json]

  statement {
    sid       = "CopyCachedRenditions"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = [local.output_renditions]
  }

  # A cache entry whose renditions were deleted must read as missing (404: process the upload
  # again), not as denied (403: the job would fail).
  statement {
    sid       = "ListRenditions"
    actions   = ["s3:ListBucket"]
    resources = [var.output_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.rendition_keys]
    }
  }

  statement {
    sid       = "ClaimJobs"
    actions   = ["dynamodb:UpdateItem", "dynamodb:GetItem"]
    resources = [var.jobs_table_arn]
  }
}

# ResizeImage: reads the upload, writes one bundle under the work prefix.
data "aws_iam_policy_document" "resize" {
  source_policy_documents = [data.aws_iam_policy_document.common["resize"].json, data.aws_iam_policy_document.read_uploads.json]

  statement {
    sid       = "WriteWorkBundle"
    actions   = ["s3:PutObject"]
    resources = [local.output_work]
  }
}

# ApplyFilters: as ResizeImage, plus the recipe's watermark images.
data "aws_iam_policy_document" "filter" {
  source_policy_documents = [data.aws_iam_policy_document.common["filter"].json, data.aws_iam_policy_document.read_uploads.json]

  statement {
    sid       = "WriteWorkBundle"
    actions   = ["s3:PutObject"]
    resources = [local.output_work]
  }

  statement {
    sid       = "ReadAssets"
    actions   = ["s3:GetObject"]
    resources = [local.output_assets]
  }

  # A watermark the recipe names but nobody uploaded reads as missing (MISSING_ASSET), not denied.
  statement {
    sid       = "ListAssets"
    actions   = ["s3:ListBucket"]
    resources = [var.output_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.asset_keys]
    }
  }
}

# OptimizeImage: reads the bundles (and the upload, for animation, metadata or a
# server-side pass-through copy), writes the renditions, removes them again if a write fails.
data "aws_iam_policy_document" "optimize" {
  source_policy_documents = [data.aws_iam_policy_document.common["optimize"].json, data.aws_iam_policy_document.read_uploads.json]

  statement {
    sid       = "ReadWorkBundles"
    actions   = ["s3:GetObject"]
    resources = [local.output_work]
  }

  statement {
    sid       = "WriteRenditions"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = [local.output_renditions]
  }
}

# NotifySuccess / NotifyError: records the outcome, deletes the job's two work objects by their
# known keys (no listing: DeleteObjects reports a missing key as deleted), publishes one message.
data "aws_iam_policy_document" "notify" {
  source_policy_documents = [data.aws_iam_policy_document.common["notify"].json]

  # The prefixes split the output bucket between the steps' grants (notify deletes under
  # work_prefix, optimize under output_prefix): overlapping prefixes would let one step
  # delete another's objects, and the work lifecycle rule expire renditions.
  lifecycle {
    precondition {
      condition     = length(local.overlapping_prefixes) == 0
      error_message = "output_prefix, work_prefix and assets_prefix must not overlap (none may start with another), got ${join(", ", [for input in local.overlapping_prefixes : "${input} = \"${local.prefixes[input]}\""])}."
    }
  }

  statement {
    sid       = "RecordOutcome"
    actions   = ["dynamodb:UpdateItem", "dynamodb:GetItem"]
    resources = [var.jobs_table_arn]
  }

  statement {
    sid       = "DeleteWorkObjects"
    actions   = ["s3:DeleteObject"]
    resources = [local.output_work]
  }

  statement {
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = [var.success_topic_arn, var.error_topic_arn]
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.created_roles

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = local.function_policies[each.key]
}

resource "aws_lambda_function" "this" {
  for_each = var.functions

  function_name    = "${var.name}-${each.key}"
  description      = "imgflow ${each.key} step"
  role             = local.role_arns[each.key]
  filename         = local.zip_paths[each.key]
  source_code_hash = filebase64sha256(local.zip_paths[each.key])
  handler          = "index.handler"
  runtime          = "nodejs22.x"
  architectures    = [var.architecture]
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout

  reserved_concurrent_executions = each.value.reserved_concurrency

  environment {
    variables = merge(local.environment, each.value.environment)
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this[each.key].name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.json_settings_bytes <= local.json_settings_budget
      error_message = "The recipe and limits JSON take ${local.json_settings_bytes} bytes of the Lambda environment; at most ${local.json_settings_budget} fit beside the other IMGFLOW_* settings (Lambda allows ${local.environment_max} bytes in all). Remove renditions or filters, or shorten names in recipe_json."
    }
    precondition {
      condition     = sum([for name, value in merge(local.environment, each.value.environment) : length(name) + length(value)]) <= local.environment_max
      error_message = "The environment of ${var.name}-${each.key} exceeds the ${local.environment_max} bytes Lambda allows (names and values together): shorten recipe_json, limits_json or the extra environment."
    }
  }

  # The role must be able to write logs before the first invocation.
  depends_on = [aws_iam_role_policy.this]
}
