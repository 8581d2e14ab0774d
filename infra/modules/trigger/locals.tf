locals {
  role_name = "${var.name}-trigger-${data.aws_region.current.name}"
  role_arn  = var.create_role ? aws_iam_role.this[0].arn : var.existing_role_arn

  # EventBridge wildcard patterns treat "*" and "\" specially: escape them in literal parts.
  escaped_prefix = replace(replace(var.key_prefix, "\\", "\\\\"), "*", "\\*")

  # Entries of one array are ORed. A prefix and suffixes together become one wildcard per suffix.
  key_filters = concat(
    var.key_prefix != "" && length(var.key_suffixes) == 0 ? [{ prefix = var.key_prefix }] : [],
    var.key_prefix == "" ? [for suffix in var.key_suffixes : { suffix = suffix }] : [],
    var.key_prefix != "" ? [for suffix in var.key_suffixes : { wildcard = "${local.escaped_prefix}*${replace(replace(suffix, "\\", "\\\\"), "*", "\\*")}" }] : [],
  )

  event_pattern = {
    source      = ["aws.s3"]
    detail-type = ["Object Created"]
    # detail.object appears only when there is a key filter (an empty array would match nothing).
    detail = merge(
      { bucket = { name = [var.upload_bucket_name] } },
      { for filters in [local.key_filters] : "object" => { key = filters } if length(filters) > 0 },
    )
  }
}
