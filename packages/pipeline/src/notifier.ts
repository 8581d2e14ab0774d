import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { NotificationFailedError } from './errors.js';
import { type JobNotification, attributesFor } from './messages.js';

/** Publishes job notifications; any failure is a NotificationFailedError (transient: the workflow retries). */
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
      throw new NotificationFailedError(`Publishing ${message.event} for job ${message.jobId} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
