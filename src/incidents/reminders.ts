/** Where reminders are kept (BullMQ delayed jobs in production, so they outlive a restart). */
export interface ReminderScheduler {
  /** Schedules a reminder for `incidentId` at `dueAt`; returns the job's id. */
  schedule(incidentId: string, dueAt: Date): Promise<string>;
  cancel(jobId: string): Promise<void>;
}

/** Job ids may not contain ':'; one id per due time, so a job can schedule its successor. */
export const reminderJobId = (incidentId: string, dueAt: Date) => `remind-${incidentId}-${dueAt.getTime()}`;

export const noReminders: ReminderScheduler = {
  schedule: async (incidentId, dueAt) => reminderJobId(incidentId, dueAt),
  cancel: async () => undefined,
};
