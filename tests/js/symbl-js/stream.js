// Streams a recording to a Parley server with @symblai/symbl-js 1.4.10, unmodified:
// sdk.init({accessToken, basePath}), startRealtimeRequest, sendAudio, stop(). The first
// two seconds go first and the rest only once an interim caption has come back. Prints
// one JSON object of what the SDK's handlers were given; tests/test_sdk_js.py asserts on it.
//
// Usage: PARLEY_URL=... ACCESS_TOKEN=... PCM_FILE=<16 kHz s16le mono> node stream.js
'use strict';

const fs = require('fs');
const crypto = require('crypto');
const { sdk } = require('@symblai/symbl-js');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const seen = { interim: [], finals: [], messages: [], insights: [], topics: [], trackers: [] };
let heardInterim;
const interimHeard = new Promise((resolve) => { heardInterim = resolve; });

(async () => {
  await sdk.init({ accessToken: env('ACCESS_TOKEN'), basePath: env('PARLEY_URL') });
  const connection = await sdk.startRealtimeRequest({
    id: crypto.randomUUID(),
    insightTypes: ['action_item', 'question'],
    config: {
      meetingTitle: 'From symbl-js',
      confidenceThreshold: 0.5,
      languageCode: 'en-US',
      sampleRateHertz: 16000,
    },
    speaker: { userId: 'jfk@example.com', name: 'John' },
    trackers: [{ name: 'Nation', vocabulary: ['country'] }],
    handlers: {
      onSpeechDetected: (data) => {
        const text = data && data.punctuated && data.punctuated.transcript;
        if (data.isFinal) seen.finals.push(text);
        else { seen.interim.push(text); heardInterim(); }
      },
      onMessageResponse: (messages) => seen.messages.push(...messages),
      onInsightResponse: (insights) => seen.insights.push(...insights),
      onTopicResponse: (topics) => seen.topics.push(...topics),
      onTrackerResponse: (frame) => seen.trackers.push(frame),
    },
  });
  seen.conversationId = connection.conversationId;
  const audio = fs.readFileSync(env('PCM_FILE'));
  const send = (from, to) => {
    for (let i = from; i < to; i += 8192) connection.sendAudio(audio.subarray(i, Math.min(i + 8192, to)));
  };
  send(0, 64000);
  await interimHeard;
  send(64000, audio.length);
  connection.sendAudio(Buffer.alloc(32000));
  seen.stopped = await connection.stop();
  process.stdout.write(JSON.stringify(seen));
  process.exit(0);
})().catch((error) => {
  process.stderr.write(String(error && error.stack || JSON.stringify(error)));
  process.exit(1);
});
