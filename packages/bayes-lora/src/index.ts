export * from './sigma';
export * from './gaussian-kl';
export * from './kl-weight';
export * from './noise';
export * from './flipout-adapter';
export * from './variational-options';
export * from './flipout-lora-wrapper';
export * from './variational-lora-wrapper';
