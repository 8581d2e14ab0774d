import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { AccessDeniedError, NotificationFailedError } from './errors.js';
import { type JobNotification, attributesFor } from './messages.js';

/**
 * Publishes job notifications. SNS refusing the function (AuthorizationError, 403: its role or
 * the topic policy) is an AccessDeniedError, not worth a retry; any other failure is a
 * NotificationFailedError (transient: the workflow retries).
 */
export class Notifier {
  constructor(private readonly sns: SNSClient) {}

  async publish(topicArn: string, message: JobNotification): Promise<string> {
    const attributes = attributesFor(message);
    try {
      const response = await this.sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify(message),
          Subject: `imgflow ${message.event}`,
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: String(value) }]),
          ),
        }),
      );
      return response.MessageId ?? '';
    } catch (error) {
      const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (name === 'AuthorizationError' || $metadata?.httpStatusCode === 403) {
        throw new AccessDeniedError(`SNS denied publishing ${message.event} for job ${message.jobId} to ${topicArn}: check the function's role and the topic policy (${(error as Error).message})`, {
          cause: error,
        });
      }
      throw new NotificationFailedError(`Publishing ${message.event} for job ${message.jobId} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
