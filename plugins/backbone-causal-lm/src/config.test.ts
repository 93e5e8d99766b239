import { parseConfig } from './config';
import { inverseFrequencies } from './rope';

const llama = {
  model_type: 'llama',
  hidden_size: 64,
  intermediate_size: 172,
  num_hidden_layers: 2,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  vocab_size: 512,
  max_position_embeddings: 512,
};

describe('parseConfig', () => {
  it('fills in transformers defaults: head_dim = hidden / heads, untied, rope theta 10000', () => {
    const c = parseConfig(llama);
    expect(c).toMatchObject({
      modelType: 'llama',
      headDim: 8,
      numKeyValueHeads: 4,
      tieWordEmbeddings: false,
      ropeTheta: 10000,
      ropeScaling: null,
      qkvBias: false,
      outputBias: false,
      mlpBias: false,
      slidingWindow: null,
      eosTokenIds: [],
    });
    expect(parseConfig({ ...llama, num_key_value_heads: undefined }).numKeyValueHeads).toBe(8);
    expect(parseConfig({ ...llama, head_dim: 16 }).headDim).toBe(16);
  });

  it('knows where each architecture puts its biases', () => {
    expect(parseConfig({ ...llama, model_type: 'qwen2' })).toMatchObject({ qkvBias: true, outputBias: false, mlpBias: false });
    expect(parseConfig({ ...llama, attention_bias: true, mlp_bias: true })).toMatchObject({ qkvBias: true, outputBias: true, mlpBias: true });
    expect(parseConfig({ ...llama, model_type: 'mistral', sliding_window: 4096 })).toMatchObject({ qkvBias: false, slidingWindow: 4096 });
  });

  it('reads Llama 3 eos lists and rope scaling under either key', () => {
    const c = parseConfig({ ...llama, eos_token_id: [128001, 128009], bos_token_id: 128000, rope_scaling: { type: 'linear', factor: 2 } });
    expect(c.eosTokenIds).toEqual([128001, 128009]);
    expect(c.bosTokenId).toBe(128000);
    expect(c.ropeScaling).toEqual({ type: 'linear', factor: 2 });
    expect(parseConfig({ ...llama, rope_scaling: { rope_type: 'default' } }).ropeScaling).toBeNull();
  });

  it('rejects what it does not implement, naming the file and field', () => {
    expect(() => parseConfig({ ...llama, model_type: 'gpt2' }, '/m/config.json')).toThrow(
      '/m/config.json: model_type: "gpt2" is not supported (supported: llama, mistral, qwen2)',
    );
    expect(() => parseConfig({ ...llama, hidden_act: 'gelu' })).toThrow('hidden_act: "gelu" is not supported');
    expect(() => parseConfig({ ...llama, num_key_value_heads: 3 })).toThrow('num_key_value_heads: 3 does not divide num_attention_heads 8');
    expect(() => parseConfig({ ...llama, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow('rope_scaling: type "yarn" is not supported');
    expect(() => parseConfig({ ...llama, hidden_size: '64' })).toThrow('hidden_size: expected an integer >= 1, got "64"');
    expect(() => parseConfig({ ...llama, model_type: 'qwen2', use_sliding_window: true })).toThrow('use_sliding_window');
  });
});

describe('inverseFrequencies', () => {
  const base = { headDim: 16, ropeTheta: 500000 };

  it('is 1 / theta^(2i/d) without scaling', () => {
    const inv = inverseFrequencies({ ...base, ropeScaling: null });
    inv.forEach((v, i) => expect(v).toBeCloseTo(1 / Math.pow(500000, (2 * i) / 16), 7));
  });

  it("follows transformers' llama3 rule: keep high, divide low, blend the middle", () => {
    const scaling = { type: 'llama3' as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 };
    const plain = inverseFrequencies({ ...base, ropeScaling: null });
    const scaled = inverseFrequencies({ ...base, ropeScaling: scaling });
    let kinds = '';
    plain.forEach((f, i) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < 8192 / 4) {
        expect(scaled[i]).toBe(f);
        kinds += 'h';
      } else if (wavelen > 8192 / 1) {
        expect(scaled[i]).toBeCloseTo(f / 8, 9);
        kinds += 'l';
      } else {
        const smooth = (8192 / wavelen - 1) / (4 - 1);
        expect(scaled[i] / ((1 - smooth) * (f / 8) + smooth * f)).toBeCloseTo(1, 6);
        kinds += 'm';
      }
    });
    // theta 5e5 and head_dim 16 exercise all three bands.
    expect(kinds).toMatch(/^h+m+l+$/);
  });
});
