/** Where an Evolution message's file is: a URL Evolution gave, or base64 inside its webhook. */
export interface EvolutionMediaSource {
  url: string | null;
  base64: string | null;
}
