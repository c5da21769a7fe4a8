// Readiness probe for deploy/local/kafka.sh: connects a kafkajs admin to the broker given as argv[2]
// and lists topics; exit 0 only when the broker answered a metadata request.
import kafkajs from 'kafkajs'

const { Kafka, logLevel } = kafkajs
const brokers = (process.argv[2] ?? '127.0.0.1:9092').split(',')
const kafka = new Kafka({ clientId: 'yujing-kafka-sh', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 2000, retry: { retries: 0 } })
const admin = kafka.admin()
const timer = setTimeout(() => { console.error('timeout'); process.exit(1) }, 5000)
try {
  await admin.connect()
  const topics = await admin.listTopics()
  console.log(topics.join('\n'))
  await admin.disconnect()
  clearTimeout(timer)
  process.exit(0)
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
}
