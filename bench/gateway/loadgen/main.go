// Command loadgen sends POST requests open-loop at a constant rate and prints
// one JSON line of latency percentiles.
//
// Request i is scheduled at start + i/rate. The sender never waits for a
// response before sending the next request, and each latency is measured
// from the scheduled send time, not from the moment the request was written.
// A stalled server or a stalled sender therefore shows up in the latency
// figures instead of silently lowering the request rate (the "coordinated
// omission" that closed-loop generators suffer from, as in wrk2).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sample is the outcome of one request.
type sample struct {
	scheduled  time.Duration // scheduled send time, relative to the start of the run
	sendLag    time.Duration // how late the sender started the request
	latency    time.Duration // from scheduled send time to the last body byte
	firstByte  time.Duration // from scheduled send time to the response headers
	status     int
	overheadUs int64 // x-weir-overhead-us header, -1 when absent
	err        string
}

// report is the JSON line printed at the end of a run. Durations are in microseconds.
type report struct {
	URL            string         `json:"url"`
	Rate           int            `json:"rate"`
	DurationS      float64        `json:"duration_s"`
	BodyBytes      int            `json:"body_bytes"`
	Requests       int            `json:"requests"`
	OK             int            `json:"ok"`
	Errors         int            `json:"errors"`
	ErrorKinds     map[string]int `json:"error_kinds"`
	AchievedRate   float64        `json:"achieved_rate"`
	LatencyUs      percentiles    `json:"latency_us"`
	FirstByteUs    percentiles    `json:"first_byte_us"`
	SendLagUs      percentiles    `json:"send_lag_us"`
	OverheadUs     *percentiles   `json:"overhead_header_us,omitempty"`
	LastSecondP50  float64        `json:"last_second_p50_us"`
	FirstSecondP50 float64        `json:"first_second_p50_us"`
}

type percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

func main() {
	url := flag.String("url", "", "target URL, for example http://127.0.0.1:8080/v1/chat/completions")
	bodyPath := flag.String("body", "", "file sent as the request body")
	rate := flag.Int("rate", 1000, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "length of the measured run")
	warmup := flag.Duration("warmup", 2*time.Second, "run at the same rate before measuring; those requests are not counted")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	keyEnv := flag.String("key-env", "", "environment variable holding a bearer token to send (empty: no Authorization header)")
	flag.Parse()

	if *url == "" || *bodyPath == "" || *rate <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -url, -body and a positive -rate are required")
		os.Exit(2)
	}
	body, err := os.ReadFile(*bodyPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: cannot read -body %s: %v\n", *bodyPath, err)
		os.Exit(2)
	}
	authorization := ""
	if *keyEnv != "" {
		key := os.Getenv(*keyEnv)
		if key == "" {
			fmt.Fprintf(os.Stderr, "loadgen: environment variable %s is empty; export the API key there\n", *keyEnv)
			os.Exit(2)
		}
		authorization = "Bearer " + key
	}

	client := newClient(*timeout)
	if *warmup > 0 {
		run(client, *url, body, authorization, *rate, *warmup)
	}
	samples := run(client, *url, body, authorization, *rate, *duration)

	out := summarize(samples, *url, *rate, *duration, len(body))
	encoded, _ := json.Marshal(out)
	fmt.Println(string(encoded))
}

// newClient returns an HTTP/1.1 client that keeps every connection it opens
// alive, so that the run measures requests and not TCP handshakes.
func newClient(timeout time.Duration) *http.Client {
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: timeout}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: 100000,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
	return &http.Client{Transport: transport, Timeout: timeout}
}

// run sends rate*length requests on a fixed schedule and returns one sample per request.
func run(client *http.Client, url string, body []byte, authorization string, rate int, length time.Duration) []sample {
	count := int(float64(rate) * length.Seconds())
	interval := time.Second / time.Duration(rate)
	samples := make([]sample, count)
	var wait sync.WaitGroup
	wait.Add(count)

	start := time.Now()
	for i := 0; i < count; i++ {
		scheduled := time.Duration(i) * interval
		if delay := scheduled - time.Since(start); delay > 0 {
			time.Sleep(delay)
		}
		go func(i int, scheduled time.Duration) {
			defer wait.Done()
			samples[i] = send(client, url, body, authorization, start, scheduled)
		}(i, scheduled)
	}
	wait.Wait()
	return samples
}

// send performs one request and reads the whole response body.
func send(client *http.Client, url string, body []byte, authorization string, start time.Time, scheduled time.Duration) sample {
	result := sample{scheduled: scheduled, sendLag: time.Since(start) - scheduled, overheadUs: -1}
	request, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		result.err = "request: " + err.Error()
		return result
	}
	request.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		request.Header.Set("Authorization", authorization)
	}

	response, err := client.Do(request)
	if err != nil {
		result.err = classify(err)
		result.latency = time.Since(start) - scheduled
		return result
	}
	result.firstByte = time.Since(start) - scheduled
	result.status = response.StatusCode
	if value := response.Header.Get("x-weir-overhead-us"); value != "" {
		if parsed, parseErr := strconv.ParseInt(value, 10, 64); parseErr == nil {
			result.overheadUs = parsed
		}
	}
	_, err = io.Copy(io.Discard, bufio.NewReaderSize(response.Body, 64<<10))
	response.Body.Close()
	result.latency = time.Since(start) - scheduled
	if err != nil {
		result.err = classify(err)
	}
	return result
}

// classify shortens a transport error to a stable kind for counting.
func classify(err error) string {
	message := err.Error()
	for _, kind := range []string{"timeout", "connection reset", "connection refused", "EOF", "broken pipe",
		"cannot assign requested address", "too many open files"} {
		if strings.Contains(message, kind) {
			return kind
		}
	}
	return message
}

func summarize(samples []sample, url string, rate int, length time.Duration, bodyBytes int) report {
	out := report{URL: url, Rate: rate, DurationS: length.Seconds(), BodyBytes: bodyBytes,
		Requests: len(samples), ErrorKinds: map[string]int{}}

	var latencies, firstBytes, lags, overheads, firstSecond, lastSecond []float64
	var lastCompletion time.Duration
	for _, s := range samples {
		switch {
		case s.err != "":
			out.ErrorKinds[s.err]++
		case s.status != http.StatusOK:
			out.ErrorKinds["http "+strconv.Itoa(s.status)]++
		default:
			out.OK++
		}
		latency := micros(s.latency)
		latencies = append(latencies, latency)
		firstBytes = append(firstBytes, micros(s.firstByte))
		lags = append(lags, micros(s.sendLag))
		if s.overheadUs >= 0 {
			overheads = append(overheads, float64(s.overheadUs))
		}
		if s.scheduled < time.Second {
			firstSecond = append(firstSecond, latency)
		}
		if s.scheduled >= length-time.Second {
			lastSecond = append(lastSecond, latency)
		}
		if end := s.scheduled + s.latency; end > lastCompletion {
			lastCompletion = end
		}
	}
	out.Errors = len(samples) - out.OK
	if lastCompletion > 0 {
		out.AchievedRate = float64(out.OK) / lastCompletion.Seconds()
	}
	out.LatencyUs = summarizeValues(latencies)
	out.FirstByteUs = summarizeValues(firstBytes)
	out.SendLagUs = summarizeValues(lags)
	if len(overheads) > 0 {
		overhead := summarizeValues(overheads)
		out.OverheadUs = &overhead
	}
	out.FirstSecondP50 = summarizeValues(firstSecond).P50
	out.LastSecondP50 = summarizeValues(lastSecond).P50
	return out
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// summarizeValues returns nearest-rank percentiles of values.
func summarizeValues(values []float64) percentiles {
	if len(values) == 0 {
		return percentiles{}
	}
	sort.Float64s(values)
	at := func(q float64) float64 {
		index := int(q*float64(len(values))+0.5) - 1
		if index < 0 {
			index = 0
		}
		if index >= len(values) {
			index = len(values) - 1
		}
		return values[index]
	}
	return percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999), Max: values[len(values)-1]}
}
