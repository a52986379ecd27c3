// Command kfake-server runs an in-process Kafka-protocol broker (kfake) for
// outage tests and demos. It prints "ready <host:port>" on stdout once it
// listens and exits cleanly on SIGTERM or SIGINT.
//
//	kfake-server --port 9092 --data-dir /tmp/kfake --partitions 3
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 0, "listen port on 127.0.0.1 (0: any free port)")
	dataDir := flag.String("data-dir", "", "persist topics and offsets here across restarts (empty: in memory)")
	partitions := flag.Int("partitions", 1, "partitions of auto-created topics")
	noAuto := flag.Bool("no-auto-create", false, "disable automatic topic creation")
	sasl := flag.String("sasl", "", "user:password: require SASL, this superuser for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512")
	maxBytes := flag.String("max-message-bytes", "", "broker message.max.bytes (kfake default 1048588)")
	flag.Parse()

	opts := []kfake.Opt{kfake.Ports(*port), kfake.DefaultNumPartitions(*partitions)}
	if !*noAuto {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
	}
	if *sasl != "" {
		user, pass, ok := strings.Cut(*sasl, ":")
		if !ok {
			fmt.Fprintln(os.Stderr, "kfake-server: --sasl wants user:password")
			os.Exit(2)
		}
		opts = append(opts, kfake.EnableSASL(),
			kfake.Superuser("PLAIN", user, pass),
			kfake.Superuser("SCRAM-SHA-256", user, pass),
			kfake.Superuser("SCRAM-SHA-512", user, pass))
	}
	if *maxBytes != "" {
		opts = append(opts, kfake.BrokerConfigs(map[string]string{"message.max.bytes": *maxBytes}))
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake-server:", err)
		os.Exit(1)
	}
	fmt.Println("ready", strings.Join(c.ListenAddrs(), ","))
	<-sig
	c.Close()
}
