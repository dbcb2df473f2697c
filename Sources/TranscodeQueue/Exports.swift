// The worker is built on the job contract and the AMQP layer: whoever imports the worker gets them too.
@_exported import TranscodeJobs
