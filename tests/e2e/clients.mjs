// The official `openai` and `ollama` npm clients against a running `umi serve`
// (chat, completions, models, embeddings, logprobs, json_schema; Ollama chat, format schema, generate, embed, tags, ps,
// show).
// usage: node clients.mjs BASE_URL MODEL   (exit 0 when every check passes)
import OpenAI from 'openai';
import { Ollama } from 'ollama';

const [base, model] = process.argv.slice(2);
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}
function assert(cond, what) { if (!cond) throw new Error(what); }

const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30000 });
const ollama = new Ollama({ host: base });
const messages = [{ role: 'user', content: 'Tell me a story.' }];

let whole = '';
await check('openai: models.list', async () => {
  const ids = [];
  for await (const m of openai.models.list()) ids.push(m.id);
  assert(ids.includes(model), `no ${model} in ${ids}`);
});
await check('openai: chat (non-streaming)', async () => {
  const r = await openai.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0 });
  whole = r.choices[0].message.content;
  assert(whole.length > 0, 'empty content');
  assert(r.choices[0].finish_reason === 'length', `finish_reason ${r.choices[0].finish_reason}`);
  assert(r.usage.completion_tokens === 16, `completion_tokens ${r.usage.completion_tokens}`);
  assert(r.usage.prompt_tokens_details.cached_tokens >= 0, 'cached_tokens');
});
await check('openai: chat (streaming) equals non-streaming', async () => {
  const s = await openai.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0, stream: true,
                                                    stream_options: { include_usage: true } });
  let text = '', usage = null, finish = null;
  for await (const chunk of s) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert(text === whole, `stream ${JSON.stringify(text)} != ${JSON.stringify(whole)}`);
  assert(finish === 'length', `finish ${finish}`);
  assert(usage && usage.completion_tokens === 16, 'usage chunk');
  assert(usage.prompt_tokens_details.cached_tokens > 0, 'the repeated prompt should hit the prefix cache');
});
await check('openai: completions', async () => {
  const r = await openai.completions.create({ model, prompt: 'Once upon a time', max_tokens: 12, temperature: 0 });
  assert(r.choices[0].text.length > 0, 'empty text');
});
await check('openai: completions (streaming)', async () => {
  const s = await openai.completions.create({ model, prompt: 'Once upon a time', max_tokens: 12, temperature: 0, stream: true });
  let text = '';
  for await (const chunk of s) text += chunk.choices[0]?.text ?? '';
  assert(text.length > 0, 'empty text');
});
await check('openai: embeddings', async () => {
  const r = await openai.embeddings.create({ model, input: ['Once upon a time', 'Once upon a time'] });
  assert(r.data.length === 2 && r.data[0].index === 0 && r.data[1].index === 1, 'data');
  const v = r.data[0].embedding;
  const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  assert(v.length > 0 && Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
  assert(JSON.stringify(v) === JSON.stringify(r.data[1].embedding), 'identical inputs differ');
  assert(r.usage.prompt_tokens > 0, 'usage');
});
await check('openai: chat with logprobs', async () => {
  const r = await openai.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 2 });
  const content = r.choices[0].logprobs.content;
  assert(content.length === 8, `${content.length} entries`);
  assert(content.map((e) => e.token).join('') === r.choices[0].message.content, 'tokens spell the content');
  assert(content.every((e) => e.logprob <= 0 && e.top_logprobs.length === 2 && e.top_logprobs[0].token === e.token), 'greedy picks the top');
});
// Structured output: a schema without free text closes within a few hundred tokens even on this model.
const schema = { type: 'object', properties: { answer: { enum: ['yes', 'no'] }, ok: { type: 'boolean' }, n: { type: 'integer' } },
                 required: ['answer', 'ok'], additionalProperties: false };
function schemaValid(text) {
  const v = JSON.parse(text);
  const keys = Object.keys(v);
  return ['yes', 'no'].includes(v.answer) && typeof v.ok === 'boolean' && keys.every((k) => k in schema.properties) &&
         (!('n' in v) || Number.isInteger(v.n));
}
await check('openai: chat with response_format json_schema', async () => {
  const r = await openai.chat.completions.create({ model, messages, max_tokens: 400, temperature: 0,
    response_format: { type: 'json_schema', json_schema: { name: 'verdict', strict: true, schema } } });
  assert(r.choices[0].finish_reason === 'stop', `finish_reason ${r.choices[0].finish_reason}`);
  assert(schemaValid(r.choices[0].message.content), `does not validate: ${r.choices[0].message.content}`);
});
await check('openai: json_schema outside the subset is a BadRequestError', async () => {
  try {
    await openai.chat.completions.create({ model, messages, response_format: { type: 'json_schema',
      json_schema: { name: 'x', schema: { type: 'string', format: 'email' } } } });
    throw new Error('no error');
  } catch (e) {
    assert(e instanceof OpenAI.BadRequestError && /format/.test(e.message), `got ${e}`);
  }
});
await check('openai: unknown model is a NotFoundError', async () => {
  try {
    await openai.chat.completions.create({ model: 'no-such-model', messages });
    throw new Error('no error');
  } catch (e) {
    assert(e instanceof OpenAI.NotFoundError, `got ${e}`);
  }
});

await check('ollama: chat (non-streaming)', async () => {
  const r = await ollama.chat({ model, messages, stream: false, options: { temperature: 0, num_predict: 16 } });
  assert(r.message.content === whole, `${JSON.stringify(r.message.content)} != ${JSON.stringify(whole)}`);
  assert(r.done && r.eval_count === 16 && r.total_duration > 0, 'stats');
});
await check('ollama: chat with format as a JSON schema', async () => {
  const r = await ollama.chat({ model, messages, stream: false, format: schema, options: { temperature: 0, num_predict: 400 } });
  assert(r.done_reason === 'stop', `done_reason ${r.done_reason}`);
  assert(schemaValid(r.message.content), `does not validate: ${r.message.content}`);
});
await check('ollama: chat (streaming)', async () => {
  const s = await ollama.chat({ model, messages, stream: true, options: { temperature: 0, num_predict: 16 } });
  let text = '', last = null;
  for await (const part of s) { text += part.message.content; last = part; }
  assert(text === whole, `stream ${JSON.stringify(text)}`);
  assert(last.done && last.done_reason === 'length', 'last record');
});
await check('ollama: generate (streaming and not)', async () => {
  const r = await ollama.generate({ model, prompt: 'Once upon a time', stream: false, options: { temperature: 0, num_predict: 12 } });
  const s = await ollama.generate({ model, prompt: 'Once upon a time', stream: true, options: { temperature: 0, num_predict: 12 } });
  let text = '';
  for await (const part of s) text += part.response;
  assert(r.response.length > 0 && text === r.response, `${JSON.stringify(text)} != ${JSON.stringify(r.response)}`);
});
await check('ollama: tags', async () => {
  const r = await ollama.list();
  assert(r.models.some((m) => m.name === model), 'model missing');
});
await check('ollama: ps', async () => {
  const r = await ollama.ps();
  assert(r.models.some((m) => m.name === model), 'loaded model missing');
});
await check('ollama: show', async () => {
  const r = await ollama.show({ model });
  assert(r.details.format === 'gguf' && r.model_info['general.architecture'], 'details');
});
await check('ollama: embed', async () => {
  const r = await ollama.embed({ model, input: ['Once upon a time', 'a dog'] });
  assert(r.embeddings.length === 2 && r.embeddings[0].length > 0, 'embeddings');
  const norm = Math.sqrt(r.embeddings[0].reduce((a, x) => a + x * x, 0));
  assert(Math.abs(norm - 1) < 1e-4 && r.prompt_eval_count > 0, `norm ${norm}`);
});
await check('ollama: unknown model throws', async () => {
  try {
    await ollama.chat({ model: 'no-such-model', messages, stream: false });
    throw new Error('no error');
  } catch (e) {
    assert(/not found/.test(String(e.message)), `got ${e.message}`);
  }
});

console.log(failed ? `${failed} client check(s) failed` : 'all client checks passed');
process.exit(failed ? 1 : 0);
