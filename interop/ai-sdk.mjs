// The AI SDK's xAI provider (@ai-sdk/xai, from npm) against `grokbook sim`: generateText and
// streamText on both of its models, xai.responses() and xai.chat(). Prints one JSON line with
// the usage the SDK read; interop/run.py checks it. Usage: node ai-sdk.mjs BASE_URL
import { createXai } from '@ai-sdk/xai';
import { generateText, streamText } from 'ai';

const xai = createXai({ baseURL: process.argv[2], apiKey: 'sim' });
const read = usage => ({
  input: usage.inputTokens,
  output: usage.outputTokens,
  text: usage.outputTokenDetails?.textTokens,
  reasoning: usage.outputTokenDetails?.reasoningTokens,
  total: usage.totalTokens,
});
const results = [];
for (const wire of ['responses', 'chat']) {
  const options = {
    model: wire === 'responses' ? xai.responses('grok-4.3') : xai.chat('grok-4.3'),
    prompt: 'What is 101*3?',
    providerOptions: { xai: { reasoningEffort: 'high' } },
  };
  const generated = await generateText(options);
  results.push({ wire, streamed: false, answer: generated.text, usage: read(generated.usage) });
  const streamed = streamText(options);
  let answer = '';
  for await (const delta of streamed.textStream) answer += delta;
  results.push({ wire, streamed: true, answer, usage: read(await streamed.usage) });
}
console.log(JSON.stringify(results));
