package store

import "tributary/engine/task"

func newMySQL(pw string) *task.MySQL {
	return &task.MySQL{Host: "127.0.0.1", Port: 3306, User: "repl", Password: pw, Encryption: "none"}
}

func newKafka(pw string) *KafkaProfile {
	return &KafkaProfile{
		Kafka: task.Kafka{Brokers: []string{"127.0.0.1:9092"}, Version: "2.8.0",
			SASL: task.SASL{Mechanism: "SCRAM-SHA-256", User: "tributary", Password: pw}},
		Topic: "dts", DDLTopic: "dts-ddl", SchemaRegistryURL: "http://registry:8081",
	}
}
